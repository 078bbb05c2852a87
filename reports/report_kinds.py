"""What a report can be: its categories (with their labels in each language), its statuses and the
status changes allowed (pure data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    id: str
    ja: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja

    @property
    def labels(self) -> dict[str, str]:
        return {"ja": self.ja, "en": self.en}


CATEGORIES: tuple[Category, ...] = (
    Category("building", "建物の被害", "Building damage"),
    Category("road", "道路の被害・通行止め", "Road damage / closure"),
    Category("flood", "冠水・浸水", "Flooding"),
    Category("fire", "火災", "Fire"),
    Category("landslide", "倒木・がけ崩れ", "Fallen tree / landslide"),
    Category("utility", "停電・断水", "Power / water outage"),
    Category("injury", "けが人", "Injured people"),
    Category("other", "その他", "Other"),
)
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
