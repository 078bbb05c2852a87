"""The news topics residents can subscribe to on LINE and that posts are tagged with.

The catalog is the `TOPICS` setting (JSON); the default follows the city's main news areas.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

LANGUAGES = ("ja", "en")


class Topic(BaseModel):
    """A subscribable topic: a stable id (used in postbacks and posts) and labels in each language."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    ja: str = Field(min_length=1, max_length=20)
    en: str = Field(min_length=1, max_length=40)

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja


DEFAULT_TOPICS: tuple[Topic, ...] = (
    Topic(id="bousai", ja="防災・防犯", en="Disaster & safety"),
    Topic(id="kosodate", ja="子育て・学び", en="Children & learning"),
    Topic(id="fukushi", ja="福祉・健康", en="Welfare & health"),
    Topic(id="event", ja="イベント・観光", en="Events & sightseeing"),
    Topic(id="shisei", ja="市政情報", en="City administration"),
)
