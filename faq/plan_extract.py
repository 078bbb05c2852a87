"""`python -m faq build PLAN.txt`: extract the action plans of the city's plan into draft FAQ entries.

The plan text is a PDF-to-text conversion: each action plan is a table whose labels (概要, 目的, …)
sometimes sit mid-line or are lost, and words are split by tabs and stray spaces. Extraction therefore
works on each plan's block of lines, between the labels that survive, and cleans the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from faq.corpus import Entry

_START = re.compile(r"^\s*\(5\)\s*各アクションプラン")
_END = re.compile(r"^\s*2\.\s*<補足説明>")
_NUMBER = re.compile(r"^\s*No\.\s+([\d\s\]]+)$")
_CJK = r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef、。]"
_GAP = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_NOISE = re.compile(r"[·•|\]\\Ī⁻_]|(?<=\s)[-,1](?=\s|$)")
POLICIES = ("市民のためのサービスデザイン", "市民を守るICT", "業務改善を支えるICT")
# The plan's overview (第5章 全体イメージ): which basic policy each theme (取組) belongs to.
THEME_POLICY = {
    "手続": POLICIES[0], "情報発信": POLICIES[0], "福祉・健康": POLICIES[0], "子育て・学び": POLICIES[0],
    "防災・防犯": POLICIES[1], "内部事務最適化": POLICIES[2],
}  # fmt: skip
# Rows of the mid-term review table (第6章 1.(3)): number, change, plan name.
_REVIEW_ROW = re.compile(r"^[^\t]*\t\s*(\d{1,2})\t(?:修正|追加|削除|-|Ī)\t([^\t]+)")
_TARGET_LABEL = re.compile(r"^[成果木ロ目標]*標?[(\(アウヘ一・]*\s*")


@dataclass(frozen=True)
class ActionPlan:
    number: int
    name: str
    policy: str
    theme: str
    summary: str  # 概要
    purpose: str  # 目的
    departments: str  # 主管部門
    related: str  # 関係部門
    targets: str  # 評価指標


def tidy(text: str) -> str:
    """Remove layout noise: tabs, stray symbols, spaces the PDF put between Japanese characters."""
    text = _NOISE.sub(" ", text.replace("\t", " "))
    text = re.sub(r"\s+", " ", text).strip()
    return _GAP.sub("", text)


def blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(number, lines) of each action plan in the plan's action-plan chapter."""
    out: list[tuple[int, list[str]]] = []
    inside = False
    for line in lines:
        if _START.match(line):
            inside = True
        elif _END.match(line) and inside:
            break
        elif inside and (m := _NUMBER.match(line)):
            out.append((int(re.sub(r"\D", "", m.group(1))), []))
        elif inside and out:
            out[-1][1].append(line)
    return out


def _find(block: list[str], label: str, start: int = 0) -> int:
    return next((i for i in range(start, len(block)) if label in block[i]), -1)


def _field(block: list[str], label: str) -> str:
    """Text after a label, preferring a line that starts with it (the label can appear in prose)."""
    starts = [i for i, line in enumerate(block) if line.strip().startswith(label)]
    i = starts[0] if starts else _find(block, label)
    return tidy(block[i].split(label, 1)[1]) if i >= 0 else ""


def _theme(block: list[str]) -> str:
    i = _find(block, "取組")
    fields = [f.strip() for f in block[i].split("取組", 1)[1].split("\t") if f.strip()] if i >= 0 else []
    return tidy(fields[0]) if fields else ""


def review_names(lines: list[str]) -> dict[int, str]:
    """Plan names from the mid-term review table, which the PDF conversion keeps cleaner."""
    names: dict[int, str] = {}
    for line in lines:
        if m := _REVIEW_ROW.match(line):
            names.setdefault(int(m.group(1)), re.sub(r"\s+", "", m.group(2)))
    return names


def _between(block: list[str], start: int, end: int, label: str) -> str:
    if start < 0:
        return ""
    stop = end if end > start else start + 1
    return tidy(" ".join(block[start:stop]).replace(label, " "))


def _year_row(block: list[str], target_at: int) -> int:
    """The row after the targets text: the schedule table's header of fiscal years."""
    if target_at < 0:
        return -1
    rows = range(target_at + 1, len(block))
    return next((i for i in rows if re.match(r"^\S*\s*(年度|左座)", block[i])), len(block))


def parse_block(number: int, block: list[str], known_name: str = "") -> ActionPlan:
    name_at = _find(block, "ションプラン")
    purpose_at = _find(block, "目的", max(name_at, 0))
    content_at = _find(block, "内容", max(purpose_at, 0))
    target_at = _find(block, "評価指標", max(purpose_at, 0))
    year_at = _year_row(block, target_at)
    policy = tidy(_field(block, "基本方針")).replace(" ", "")
    theme = _theme(block)
    name = tidy(block[name_at].rsplit("ションプラン", 1)[1]) if name_at >= 0 else ""
    targets = _between(block, target_at, year_at, "評価指標 (定量的)").replace("評価指標", "").strip()
    return ActionPlan(
        number=number,
        name=known_name or name.replace(" ", ""),
        policy=next((p for p in POLICIES if p[:4] in policy), THEME_POLICY.get(theme, policy)),
        theme=theme,
        summary=_between(block, name_at + 1, purpose_at, "概要"),
        purpose=_between(block, purpose_at, content_at if content_at > 0 else target_at, "目的"),
        departments=_field(block, "主管部門").strip("、 "),
        related=_field(block, "関係部門"),
        targets=_TARGET_LABEL.sub("", targets),
    )


def extract(text: str) -> list[ActionPlan]:
    """Every action plan of the plan text, in the order they appear."""
    lines = text.splitlines()
    names = review_names(lines)
    return [parse_block(n, b, names.get(n, "")) for n, b in blocks(lines)]


def _draft(p: ActionPlan, entry_id: str, question: str, answer: str, alternatives: tuple[str, ...]) -> Entry:
    suffix = f"(担当: {p.departments})" if p.departments else ""
    return Entry(
        id=entry_id,
        question=question,
        answer=f"{answer} {suffix}".strip(),
        alternatives=alternatives,
        category=p.theme,
        department=p.departments or None,
        source=f"第4期情報化推進計画 アクションプランNo.{p.number}",
    )


def drafts(plans: list[ActionPlan]) -> list[Entry]:
    """Two draft entries per action plan: what it is, and its targets (for staff to edit)."""
    out: list[Entry] = []
    for p in plans:
        key = f"plan-{p.number:02d}"
        out.append(
            _draft(p, key, f"{p.name}とは何ですか？", f"{p.summary} 目的: {p.purpose}", (p.name, p.theme))
        )
        if p.targets:
            out.append(_draft(p, f"{key}-targets", f"{p.name}の目標は？", p.targets, (f"{p.name} 評価指標",)))
    return out
