"""The news topics residents can subscribe to on LINE and that posts are tagged with.

The catalog is the `TOPICS` setting (JSON); the default follows the city's main news areas.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.languages import LANGUAGES, base_language

__all__ = ["DEFAULT_TOPICS", "LANGUAGES", "Topic"]


class Topic(BaseModel):
    """A subscribable topic: a stable id (used in postbacks and posts) and labels in each language."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    ja: str = Field(min_length=1, max_length=20)
    en: str = Field(min_length=1, max_length=40)
    names: dict[str, str] = Field(
        default_factory=dict, description='Labels in the other languages, e.g. {"ko": "방재·방범"}'
    )

    def label(self, lang: str) -> str:
        """The label in `lang`; else the Japanese one (easy Japanese) or the English one."""
        if lang in self.names:
            return self.names[lang]
        return self.en if base_language(lang) == "en" else self.ja


DEFAULT_TOPICS: tuple[Topic, ...] = (
    Topic(
        id="bousai",
        ja="防災・防犯",
        en="Disaster & safety",
        names={
            "ja-easy": "さいがい・あんぜん",
            "zh-Hans": "防灾・治安",
            "ko": "방재·방범",
            "vi": "Thiên tai, an ninh",
            "pt": "Desastre/segurança",
        },
    ),
    Topic(
        id="kosodate",
        ja="子育て・学び",
        en="Children & learning",
        names={
            "ja-easy": "こそだて・がっこう",
            "zh-Hans": "育儿・学习",
            "ko": "육아·배움",
            "vi": "Nuôi con & học tập",
            "pt": "Infância e escola",
        },
    ),
    Topic(
        id="fukushi",
        ja="福祉・健康",
        en="Welfare & health",
        names={
            "ja-easy": "くらしの たすけ・けんこう",
            "zh-Hans": "福利・健康",
            "ko": "복지·건강",
            "vi": "Phúc lợi, sức khỏe",
            "pt": "Bem-estar e saúde",
        },
    ),
    Topic(
        id="event",
        ja="イベント・観光",
        en="Events & sightseeing",
        names={
            "ja-easy": "イベント・かんこう",
            "zh-Hans": "活动・观光",
            "ko": "행사·관광",
            "vi": "Sự kiện & du lịch",
            "pt": "Eventos e turismo",
        },
    ),
    Topic(
        id="shisei",
        ja="市政情報",
        en="City administration",
        names={
            "ja-easy": "しの おしらせ",
            "zh-Hans": "市政信息",
            "ko": "시정 정보",
            "vi": "Tin tức thành phố",
            "pt": "Prefeitura",
        },
    ),
)
