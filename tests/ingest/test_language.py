"""Language detection: scripts decide where one language owns them; langdetect's model, loaded
with only the languages that share a script, decides the rest."""

from __future__ import annotations

import pytest

from bot.ingest.extract import MODEL_LANGS, _model, detect_lang

SENTENCES = {
    "en": "Researchers released a new open model that runs on a single laptop GPU this week.",
    "de": "Der schnelle braune Fuchs springt über den faulen Hund, und die Katze schläft.",
    "fr": "Le modèle de langage publié hier par la société française surpasse ses concurrents.",
    "es": "El nuevo modelo de lenguaje fue lanzado ayer por la empresa española.",
    "pt": "O novo modelo de linguagem foi lançado ontem pela empresa brasileira.",
    "it": "La nuova versione del modello è stata rilasciata oggi con molti miglioramenti.",
    "nl": "Het nieuwe taalmodel werd gisteren gelanceerd door het Nederlandse bedrijf.",
    "ru": "Новая модель искусственного интеллекта превзошла конкурентов в тестах.",
    "uk": "Нова модель штучного інтелекту перевершила конкурентів у тестах цього тижня.",
    "ar": "أعلنت الشركة اليوم عن نموذج لغوي جديد يتفوق على المنافسين في الاختبارات.",
    "hi": "हिंदी में यह एक परीक्षण वाक्य है जो भाषा पहचान के लिए लिखा गया है।",
    "el": "Η νέα έκδοση του μοντέλου κυκλοφόρησε σήμερα με πολλές βελτιώσεις.",
    "he": "מודל השפה החדש שוחרר היום עם שיפורים רבים לעומת הגרסה הקודמת.",
    "th": "บริษัทเปิดตัวโมเดลภาษาใหม่ที่มีประสิทธิภาพสูงกว่าคู่แข่งในวันนี้",
    "ta": "நிறுவனம் இன்று புதிய மொழி மாதிரியை அறிமுகப்படுத்தியது.",
    "ja": "オープンAIは新しい言語モデルを発表した。",
    "zh": "该公司今天发布了新的语言模型。",
    "ko": "회사는 오늘 새로운 언어 모델을 발표했다.",
}


@pytest.mark.parametrize(("lang", "text"), SENTENCES.items())
def test_each_language_is_recognised(lang: str, text: str) -> None:
    assert detect_lang(text) == lang


def test_a_few_greek_letters_do_not_make_english_greek() -> None:
    text = "The λ-calculus paper shows how α and β reductions relate to the new model's training."
    assert detect_lang(text) == "en"


def test_the_model_holds_only_the_languages_a_script_cannot_decide() -> None:
    langs = set(_model().get_lang_list())
    assert langs == set(MODEL_LANGS)
    assert not langs & {"ja", "ko", "zh-cn", "zh-tw", "el", "he", "th", "ta"}


def test_too_little_text_is_unknown() -> None:
    assert detect_lang("Hallo!") == ""
