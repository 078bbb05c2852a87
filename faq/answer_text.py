"""Answers that fit the message: small talk, the yes/no lead, the source line (pure functions).

- `small_talk`: a whole message that is a greeting, thanks, "are you a bot?", praise, a complaint
  about the bot, a goodbye or an acknowledgement. It gets a short kind reply, not an FAQ search, and
  is never logged as an unanswered question.
- `fit_answer`: an entry written for a yes/no question (「はい。…」, "Yes. …") keeps its lead only
  when the resident asked a yes/no question; 「パスポートはどこで作る？」 gets the facts without 「はい。」.
- `source_line`: where an answer comes from (the plan's section, the department), in its language.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from faq.answer_types import FaqEntryView

SmallTalk = Literal["greeting", "thanks", "bot", "praise", "complaint", "goodbye", "ack"]
MAX_SMALL_TALK_CHARS = 40  # longer messages carry a question, even when they open with a greeting

_POLITE = r"(?:です|ですか|でした|ございます|ございました|ね|よ|な|なの|なん|か|ー|~|っ)*"
# Each kind's phrases (regular-expression fragments), matched against the whole message.
_KINDS: tuple[tuple[SmallTalk, tuple[str, ...]], ...] = (
    (
        "greeting",
        (
            "こんにち[はわ]",
            "こんばん[はわ]",
            "おはよう(?:ございます)?",
            "はじめまして",
            "初めまして",
            "やあ",
            "もしもし",
        )
        + ("よろしく(?:お願いします|おねがいします)?", "宜しくお願いします", "ハロー", "hello", "hi", "hey")
        + ("hiya", "good (?:morning|afternoon|evening)", "nice to meet you"),
    ),
    (
        "thanks",
        (
            "(?:どうも)?ありがとう(?:ございます|ございました)?",
            "どうも",
            "サンキュー",
            "さんきゅー",
            "助かりました",
        )
        + ("助かった", "感謝します", "thanks?(?: you)?(?: so much| a lot| very much)?", "thx", "ty"),
    ),
    (
        "bot",
        (
            "(?:(?:あなた|君|きみ|これ)は?)?(?:ボット|bot|ロボット|ai|人間|誰|だれ|何者)(?:ですか|なの|なんですか|なんだ)?",
        )
        + ("(?:are you|is this) (?:a |an )?(?:bot|robot|human|person|ai|real person)", "who are you")
        + ("what are you",),
    ),
    (
        "praise",
        (
            "すごい",
            "凄い",
            "すごいね",
            "便利",
            "便利だね",
            "賢い",
            "かしこい",
            "えらい",
            "偉い",
            "いいね",
            "最高",
        )
        + ("素晴らしい", "すばらしい", "優秀", "good job", "good bot", "great", "awesome", "nice", "cool")
        + ("amazing", "you(?:'re| are) (?:great|smart|helpful|awesome)"),
    ),
    (
        "complaint",
        (
            "役に立たない",
            "役にたたない",
            "使えない",
            "使えねー",
            "ダメ",
            "だめ",
            "意味が?わからない",
            "意味不明",
        )
        + (
            "役立たず",
            "つまらない",
            "バカ",
            "ばか",
            "アホ",
            "あほ",
            "うざい",
            "ちがう",
            "違う",
            "そうじゃない",
        )
        + ("useless", "stupid", "bad bot", "you(?:'re| are) useless", "this (?:does not|doesn't) work")
        + ("not helpful", "wrong", "that(?:'s| is) wrong"),
    ),
    (
        "goodbye",
        ("さようなら", "さよなら", "バイバイ", "ばいばい", "またね", "また今度", "おやすみ", "bye", "goodbye")
        + ("bye bye", "see you"),
    ),
    (
        "ack",
        (
            "了解",
            "りょうかい",
            "わかりました",
            "分かりました",
            "はい",
            "うん",
            "ok",
            "okay",
            "オッケー",
            "なるほど",
        )
        + ("i see", "got it", "alright"),
    ),
)
_PATTERNS = [(kind, re.compile(rf"(?:{'|'.join(words)}){_POLITE}")) for kind, words in _KINDS]
_NOISE = re.compile(r"[\s!！?？。、,.~〜…・♪☆★(){}\[\]「」『』wｗ笑]+")

_WH_JA = re.compile(
    r"どこ|何処|いつ|何時|なに|何|どう|どの|どれ|どんな|だれ|誰|いくら|幾ら|なぜ|何故|どうして|どうやって"
    r"|どれくらい|どのくらい|どのように|方法|やり方|仕方|とは|について|教えて|知りたい|ください|下さい|たい$|たいです"
)
_QUESTION_END_JA = re.compile(r"(?:か|かな|かね)$|[?？]$")
_YES_NO_EN = re.compile(
    r"^(?:can|could|do|does|did|is|are|was|were|will|would|should|may|might|have|has|am|shall)\b"
)
_LEADS = (
    re.compile(r"^(?:はい|いいえ)[。、,]\s*"),
    re.compile(r"^(?:Yes|No)[.,]\s+"),
)

# The plan's section names in English, for the source line of English entries.
_SOURCE_EN = (
    ("第4期情報化推進計画", "Suita City 4th Informatization Promotion Plan"),
    ("アクションプラン", "Action Plan "),
    ("資料編", "appendix"),
    ("平成", "Heisei "),
    ("令和", "Reiwa "),
    ("年度", ""),
    ("第", "Chapter "),
    ("章", ""),
    ("、", ", "),
)


def _key(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower()).strip()


def small_talk(text: str) -> SmallTalk | None:
    """The kind of small talk a whole message is, or None when it asks something else."""
    if len(text) > MAX_SMALL_TALK_CHARS:
        return None
    key = "".join(ch for ch in _key(text) if unicodedata.category(ch) != "So")  # emoji say nothing
    if not key:
        return None
    spaced = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).lower()).strip(" !?.,")
    for kind, pattern in _PATTERNS:
        if pattern.fullmatch(key) or pattern.fullmatch(spaced):
            return kind
    return None


def is_yes_no(question: str) -> bool:
    """Whether a question asks yes or no (「コンビニで取れますか？」, "Can I …?") rather than how,
    where, what, or states a wish (「印鑑証明が欲しい」)."""
    text = unicodedata.normalize("NFKC", question).strip()
    if text.isascii():
        lowered = text.lower().lstrip("\"' ")
        return bool(_YES_NO_EN.match(lowered))
    body = text.rstrip("?？!！。 ")
    if _WH_JA.search(body):
        return False
    return bool(_QUESTION_END_JA.search(text.rstrip("!！。 ")))  # …ますか / …ある？


def fit_answer(answer: str, question: str) -> str:
    """The answer without its yes/no lead when the question is not a yes/no question."""
    if is_yes_no(question):
        return answer
    for lead in _LEADS:
        trimmed = lead.sub("", answer, count=1)
        if trimmed != answer and trimmed:
            return trimmed[0].upper() + trimmed[1:] if trimmed.isascii() else trimmed
    return answer


def _source_en(source: str) -> str:
    for ja, en in _SOURCE_EN:
        source = source.replace(ja, en)
    return re.sub(r"\s+", " ", source).strip()


def source_line(entry: FaqEntryView, lang: str = "ja") -> str:
    """「出典: … / 担当: …」 or "Source: … / Department: …"; empty when the entry names neither."""
    source = getattr(entry, "source", "") or ""
    parts: list[str] = []
    if lang == "en":
        if source:
            parts.append(f"Source: {_source_en(source)}")
        if entry.department:
            parts.append(f"Department: {entry.department}")
    else:
        if source:
            parts.append(f"出典: {source}")
        if entry.department:
            parts.append(f"担当: {entry.department}")
    return " / ".join(parts)
