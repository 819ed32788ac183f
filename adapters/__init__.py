"""Platform edges of ainews: Slack, Discord, console, web, and the composition root."""
