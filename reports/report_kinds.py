"""What a report can be: its categories (with their labels in each language), its statuses and the
status changes allowed (pure data)."""

from __future__ import annotations

from dataclasses import dataclass

from app.languages import LANGUAGES, fallback_chain

MAX_CATEGORY_LABEL = 20  # a LINE quick reply's label


@dataclass(frozen=True)
class Category:
    """A report category: its id and its labels by language id (each at most 20 characters: the flow
    shows them as quick replies). A language without a label shows its fallback's (`app.languages`)."""

    id: str
    names: tuple[tuple[str, str], ...]  # (language id, label), in the order of `app.languages`

    @property
    def ja(self) -> str:
        return self.labels["ja"]

    @property
    def en(self) -> str:
        return self.labels["en"]

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.names)

    def label(self, lang: str) -> str:
        labels = self.labels
        return next(labels[step] for step in fallback_chain(lang) if step in labels)


def _category(id_: str, **names: str) -> Category:
    """A category from its labels by language id (`zh_Hans` for `zh-Hans`, `ja_easy` for `ja-easy`)."""
    by_lang = {k.replace("_", "-"): v for k, v in names.items()}
    return Category(id_, tuple((lang, by_lang[lang]) for lang in LANGUAGES if lang in by_lang))


CATEGORIES: tuple[Category, ...] = (
    _category(
        "building", ja="建物の被害", ja_easy="いえ・たてものの ひがい", en="Building damage",
        zh_Hans="建筑物受损", ko="건물 피해", vi="Nhà cửa hư hại", pt="Danos em edifícios",
    ),
    _category(
        "road", ja="道路の被害・通行止め", ja_easy="みちが こわれた・通れない", en="Road damage/closure",
        zh_Hans="道路损坏/封闭", ko="도로 피해·통행 금지", vi="Hư hỏng/chặn đường", pt="Rua: danos/bloqueio",
    ),
    _category(
        "flood", ja="冠水・浸水", ja_easy="水が あふれた", en="Flooding",
        zh_Hans="积水/浸水", ko="침수", vi="Ngập nước", pt="Alagamento",
    ),
    _category(
        "fire", ja="火災", ja_easy="火事(かじ)", en="Fire",
        zh_Hans="火灾", ko="화재", vi="Hỏa hoạn", pt="Incêndio",
    ),
    _category(
        "landslide", ja="倒木・がけ崩れ", ja_easy="木が たおれた・がけが くずれた", en="Tree down/landslide",
        zh_Hans="倒树/山体滑坡", ko="쓰러진 나무·산사태", vi="Cây đổ / sạt lở", pt="Deslizamento/árvore",
    ),
    _category(
        "utility", ja="停電・断水", ja_easy="でんき・水が 止まった", en="Power/water outage",
        zh_Hans="停电/停水", ko="정전·단수", vi="Mất điện/mất nước", pt="Sem luz/sem água",
    ),
    _category(
        "injury", ja="けが人", ja_easy="けがを した 人", en="Injured people",
        zh_Hans="有人受伤", ko="부상자", vi="Có người bị thương", pt="Pessoas feridas",
    ),
    _category(
        "other", ja="その他", ja_easy="そのほか", en="Other",
        zh_Hans="其他", ko="기타", vi="Khác", pt="Outros",
    ),
)  # fmt: skip
BY_ID = {c.id: c for c in CATEGORIES}
OTHER = "other"

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "new": ("新規", "New"),
    "checking": ("確認中", "Being checked"),
    "handled": ("対応済み", "Handled"),
    "duplicate": ("重複", "Duplicate"),
    "not_actionable": ("対応不要", "Not actionable"),
}
STATUSES = tuple(STATUS_LABELS)
# statuses a reporter is told about by a push (the receipt itself says "received")
PUSHED_STATUSES = frozenset({"checking", "handled"})
SOURCES = ("line", "phone", "mastodon", "bluesky", "x")


def category_label(category_id: str, lang: str) -> str:
    found = BY_ID.get(category_id)
    return found.label(lang) if found is not None else category_id


def status_label(status: str) -> str:
    """Japanese first, then English: "対応済み / Handled"."""
    ja, en = STATUS_LABELS.get(status, (status, status))
    return f"{ja} / {en}"
