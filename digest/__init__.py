"""Pure domain of ainews: dataclasses and functions, standard library only, no I/O, no clock."""
