"""The languages residents can choose: one line each in `REGISTRY`.

Adding a language is one line here plus its texts: `templates/messages/bot/*.<id>.txt.j2`, the LINE
post template `templates/messages/notifier/line.<id>.txt.j2`, its layout on the social networks
`templates/messages/notifier/_common.<id>.txt.j2` and its text in every emergency template
(`notifier/data/emergency_templates.json`); `tests/bot/test_languages.py` checks that all exist. An id
has at most 8 characters (the columns that store it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """A resident-facing language: its id (stored in `line_users.language`), its name in its own
    script (the language menu), its names in English and Japanese (staff pages), the LINE profile
    language codes that start a resident in it (prefixes, lower case), and the language shown when an
    FAQ entry or a topic has no
    text in it (`fallback`)."""

    id: str
    name: str
    english: str
    japanese: str
    profile_codes: tuple[str, ...]
    fallback: str


REGISTRY: tuple[Language, ...] = (
    Language("ja", "日本語", "Japanese", "日本語", ("ja",), "ja"),
    Language("ja-easy", "やさしい日本語", "Easy Japanese", "やさしい日本語", (), "ja"),
    Language("en", "English", "English", "英語", ("en",), "ja"),
    Language(
        "zh-Hans",
        "简体中文",
        "Simplified Chinese",
        "中国語(簡体字)",
        ("zh-hans", "zh-cn", "zh-sg", "zh"),
        "en",
    ),
    Language("ko", "한국어", "Korean", "韓国語", ("ko",), "en"),
    Language("vi", "Tiếng Việt", "Vietnamese", "ベトナム語", ("vi",), "en"),
    Language("pt", "Português", "Portuguese", "ポルトガル語", ("pt",), "en"),
)
BY_ID = {lang.id: lang for lang in REGISTRY}
LANGUAGES: tuple[str, ...] = tuple(BY_ID)
FOREIGN: tuple[str, ...] = tuple(lang.id for lang in REGISTRY if lang.fallback == "en") + ("en",)
# Regional variants that must not fall into a shorter code above (Traditional Chinese is not Simplified).
_NOT_THESE = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")


def from_profile(code: str | None) -> str | None:
    """The language a LINE profile language code (BCP 47: `ja`, `en-US`, `zh-Hans`, `zh-TW`, `pt-BR`, …)
    starts a resident in: one of `LANGUAGES`, or None when it is none of them."""
    if not code:
        return None
    folded = code.strip().lower().replace("_", "-")
    if folded.startswith(_NOT_THESE):
        return None
    for lang in REGISTRY:
        if any(folded == c or folded.startswith(c + "-") for c in lang.profile_codes):
            return lang.id
    return None


def fallback_chain(lang: str) -> tuple[str, ...]:
    """The languages to try, in order, for a text in `lang`: itself, its fallback, then Japanese."""
    chain = [lang]
    for step in (BY_ID[lang].fallback if lang in BY_ID else "ja", "ja"):
        if step not in chain:
            chain.append(step)
    return tuple(chain)


def base_language(lang: str) -> str:
    """`en` for English and the languages that fall back to it, else `ja`: which of a topic's two
    required labels a language without its own label shows."""
    return "en" if lang == "en" or (lang in BY_ID and BY_ID[lang].fallback == "en") else "ja"
