"""Staff edits of the emergency templates' texts, per language, and review marks.

| from                            | call            | to                                                |
|---------------------------------|-----------------|---------------------------------------------------|
| (none), `draft`, `awaiting_…`   | `save_edit`     | a new `draft`, `awaiting_approval` (approval on)  |
|                                 |                 | or `approved` revision; the open one `superseded` |
| `awaiting_approval`             | `approve`       | `approved`: the language's effective text         |
| `awaiting_approval`             | `reject`        | `rejected` with the reason                        |
| the effective text              | `mark_reviewed` | reviewed by that person, now                      |

The effective text of a template in a language is its latest approved revision, else the shipped text
(`notifier/data/emergency_templates.json`). Nobody approves their own edit (403, as for posts), and
nobody marks their own text reviewed. A review mark names the revision it checked (NULL: the shipped
text): a newer approved edit is not covered by it, so the language is unreviewed again. Refusals are
`LedgerError`s worded for staff, Japanese first. Writers of this module take one lock (SQLite: the
write lock; PostgreSQL: an advisory lock), so two edits of one language never both stay open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.languages import BY_ID, LANGUAGES
from app.tokyo_time import JST, to_jst
from notifier.emergency_templates import EmergencyTemplate, Text, library, text_problems
from notifier.ledger_tables import OPEN_REVISION_STATES, TemplateReview, TemplateRevision
from notifier.post_ledger import LedgerError
from storage.db import write_lock

ADVISORY_LOCK = 0x5A17E7E1  # PostgreSQL: the key writers of template revisions lock (a constant of ours)
Effective = dict[str, dict[str, Text]]  # template id → language → approved edit


def template_of(template_id: str) -> EmergencyTemplate:
    """The shipped template, or a 404 `LedgerError`."""
    template = library().get(template_id)
    if template is None:
        raise LedgerError(
            f"{template_id!r} というテンプレートはありません / no template {template_id!r}", status=404
        )
    return template


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise LedgerError(
            f"{lang!r} という言語はありません({', '.join(LANGUAGES)}) / unknown language {lang!r}", status=404
        )
    return lang


def _approved(session: Session, template_id: str | None = None) -> list[TemplateRevision]:
    """The latest approved revision of every (template, language) — at most one open revision exists
    at a time, so the highest approved id is the latest decision."""
    latest = select(func.max(TemplateRevision.id)).where(TemplateRevision.state == "approved")
    if template_id is not None:
        latest = latest.where(TemplateRevision.template_id == template_id)
    latest = latest.group_by(TemplateRevision.template_id, TemplateRevision.language)
    return list(session.scalars(select(TemplateRevision).where(TemplateRevision.id.in_(latest))))


def effective_texts(session: Session) -> Effective:
    """Every approved edit in force: `{template id: {language: Text}}` (what `fill` is given)."""
    out: Effective = {}
    for rev in _approved(session):
        out.setdefault(rev.template_id, {})[rev.language] = Text(title=rev.title, body=rev.body)
    return out


def _reviews(session: Session, template_id: str | None = None) -> dict[tuple[str, str], TemplateReview]:
    stmt = select(TemplateReview)
    if template_id is not None:
        stmt = stmt.where(TemplateReview.template_id == template_id)
    return {(r.template_id, r.language): r for r in session.scalars(stmt)}


def review_in_force(
    template: EmergencyTemplate, lang: str, current: TemplateRevision | None, mark: TemplateReview | None
) -> dict[str, Any] | None:
    """Who reviewed the language's effective text and when (`{"by", "on", "at"}`), or None (pure):
    a stored mark for that very text, else (no edit approved) the shipped file's review."""
    if mark is not None and mark.revision_id == (current.id if current else None):
        at = mark.reviewed_at
        return {"by": mark.reviewed_by, "on": at.astimezone(JST).date().isoformat(), "at": to_jst(at)}
    shipped = template.reviewed.get(lang)
    if current is None and shipped is not None:
        return {"by": shipped.by, "on": shipped.on.isoformat(), "at": None}
    return None


def listings(session: Session) -> list[dict[str, Any]]:
    """`GET /api/v1/emergency-templates`: every template with its effective title and reviews, plus
    `reviewed_by` and `awaiting_approval` (languages with an edit waiting)."""
    current = {(r.template_id, r.language): r for r in _approved(session)}
    marks = _reviews(session)
    waiting = {
        (tid, lang)
        for tid, lang in session.execute(
            select(TemplateRevision.template_id, TemplateRevision.language).where(
                TemplateRevision.state == "awaiting_approval"
            )
        )
    }
    items = []
    for template in library().values():
        texts = {
            lang: Text(title=rev.title, body=rev.body)
            for (tid, lang), rev in current.items()
            if tid == template.id
        }
        reviews = {
            lang: review_in_force(
                template, lang, current.get((template.id, lang)), marks.get((template.id, lang))
            )
            for lang in LANGUAGES
        }
        item = template.listing(texts, {lang: r["on"] if r else None for lang, r in reviews.items()})
        item["reviewed_by"] = {lang: r["by"] if r else None for lang, r in reviews.items()}
        item["awaiting_approval"] = [lang for lang in LANGUAGES if (template.id, lang) in waiting]
        items.append(item)
    return items


def revision_view(rev: TemplateRevision) -> dict[str, Any]:
    """A revision for the API (times in Japan time)."""
    return {
        "revision": rev.id,
        "template_id": rev.template_id,
        "language": rev.language,
        "title": rev.title,
        "body": rev.body,
        "state": rev.state,
        "author": rev.author,
        "created_at": to_jst(rev.created_at),
        "decided_by": rev.decided_by,
        "decided_at": to_jst(rev.decided_at),
        "reason": rev.reason,
    }


def _latest(
    session: Session, template_id: str, lang: str, states: tuple[str, ...]
) -> TemplateRevision | None:
    stmt = select(TemplateRevision).where(
        TemplateRevision.template_id == template_id,
        TemplateRevision.language == lang,
        TemplateRevision.state.in_(states),
    )
    return session.scalars(stmt.order_by(TemplateRevision.id.desc()).limit(1)).first()


def detail(session: Session, template_id: str) -> dict[str, Any]:
    """One template with, per language, its effective text (`revision`: null = shipped), the review in
    force, the open edit (`pending`) and the last rejected edit when none is open since."""
    template = template_of(template_id)
    current = {r.language: r for r in _approved(session, template_id)}
    marks = _reviews(session, template_id)
    languages: dict[str, Any] = {}
    for lang in LANGUAGES:
        rev = current.get(lang)
        shipped = template.texts[lang]
        pending = _latest(session, template_id, lang, OPEN_REVISION_STATES)
        rejected = _latest(session, template_id, lang, ("rejected",))
        if rejected is not None and (pending is not None or (rev is not None and rev.id > rejected.id)):
            rejected = None
        languages[lang] = {
            "name": BY_ID[lang].japanese,
            "title": rev.title if rev else shipped.title,
            "body": rev.body if rev else shipped.body,
            "revision": rev.id if rev else None,
            "edited_by": rev.author if rev else None,
            "approved_by": rev.decided_by if rev else None,
            "approved_at": to_jst(rev.decided_at) if rev else None,
            "review": review_in_force(template, lang, rev, marks.get((template_id, lang))),
            "pending": revision_view(pending) if pending else None,
            "rejected": revision_view(rejected) if rejected else None,
        }
    effective = {lang: Text(title=v["title"], body=v["body"]) for lang, v in languages.items()}
    return {
        "id": template.id,
        "title": template.title_in(effective),
        "slots": list(template.slots),
        "place_slots": list(template.place_slots),
        "reviewed": {lang: (v["review"] or {}).get("on") for lang, v in languages.items()},
        "texts": languages,
    }


def waiting(session: Session, limit: int = 100) -> list[TemplateRevision]:
    """Edits waiting for approval, oldest first."""
    stmt = select(TemplateRevision).where(TemplateRevision.state == "awaiting_approval")
    return list(session.scalars(stmt.order_by(TemplateRevision.id).limit(limit)))


def save_edit(
    session: Session,
    template_id: str,
    lang: str,
    title: str,
    body: str,
    now: dt.datetime,
    *,
    by: str,
    draft: bool,
    approval_required: bool,
) -> tuple[TemplateRevision, TemplateRevision | None]:
    """Store an edited text (checked as the shipped file is: 422 naming the problem) as a new revision:
    a draft, waiting for approval, or approved at once when approval is off. Returns it and the open
    revision it replaced (now `superseded`), if any."""
    template = template_of(template_id)
    _language(lang)
    if problems := text_problems(template, title, body):
        raise LedgerError(
            " / ".join(["; ".join(ja for ja, _ in problems), "; ".join(en for _, en in problems)]), status=422
        )
    write_lock(session, ADVISORY_LOCK)
    replaced = _latest(session, template_id, lang, OPEN_REVISION_STATES)
    if replaced is not None:
        replaced.state = "superseded"
    state = "draft" if draft else ("awaiting_approval" if approval_required else "approved")
    rev = TemplateRevision(
        template_id=template_id, language=lang, title=title, body=body, author=by, created_at=now, state=state
    )
    if state == "approved":
        rev.decided_by, rev.decided_at = by, now
    session.add(rev)
    session.flush()
    return rev, replaced


def _open(
    session: Session, template_id: str, revision_id: int, action_ja: str, action: str
) -> TemplateRevision:
    template_of(template_id)
    write_lock(session, ADVISORY_LOCK)
    rev = session.get(TemplateRevision, revision_id)
    if rev is None or rev.template_id != template_id:
        raise LedgerError(
            f"{template_id} に版 No. {revision_id} はありません / "
            f"template {template_id} has no revision {revision_id}",
            status=404,
        )
    if rev.state != "awaiting_approval":
        raise LedgerError(
            f"版 No. {rev.id} は承認待ちではないため{action_ja}できません / "
            f"cannot {action} revision {rev.id}: it is {rev.state}",
            status=409,
        )
    return rev


def approve(
    session: Session, template_id: str, revision_id: int, now: dt.datetime, *, by: str
) -> TemplateRevision:
    """The waiting edit becomes the language's text (403 for its author)."""
    rev = _open(session, template_id, revision_id, "承認", "approve")
    if rev.author == by:
        raise LedgerError(
            f"自分が編集した版 No. {rev.id} は承認できません。別の承認者に依頼してください / "
            f"you cannot approve revision {rev.id}: you wrote it; another approver must",
            status=403,
        )
    rev.state, rev.decided_by, rev.decided_at = "approved", by, now
    session.flush()
    return rev


def reject(
    session: Session, template_id: str, revision_id: int, now: dt.datetime, *, by: str, reason: str
) -> TemplateRevision:
    """The waiting edit is refused, with the reason (the text in force stays)."""
    rev = _open(session, template_id, revision_id, "差し戻し", "reject")
    rev.state, rev.decided_by, rev.decided_at, rev.reason = "rejected", by, now, reason
    session.flush()
    return rev


def mark_reviewed(
    session: Session, template_id: str, lang: str, revision_id: int | None, now: dt.datetime, *, by: str
) -> TemplateReview:
    """`by` checked the language's effective text: `revision_id` is the text they saw (None: the shipped
    one); 409 when another text is in force now, 403 when `by` wrote it."""
    template_of(template_id)
    _language(lang)
    write_lock(session, ADVISORY_LOCK)
    current = _latest(session, template_id, lang, ("approved",))
    if (current.id if current else None) != revision_id:
        shown = f"No. {current.id}" if current else "初期の文面 / the shipped text"
        raise LedgerError(
            f"この言語の文面は変わっています(現在: {shown})。画面を読み込み直してください / "
            "the text in force has changed since you read it; reload",
            status=409,
        )
    if current is not None and current.author == by:
        raise LedgerError(
            f"自分が編集した文面はレビュー済みにできません。別の人が確認してください / "
            f"you wrote revision {current.id}; someone else must review it",
            status=403,
        )
    mark = session.get(TemplateReview, (template_id, lang))
    if mark is None:
        mark = TemplateReview(template_id=template_id, language=lang)
        session.add(mark)
    mark.revision_id, mark.reviewed_by, mark.reviewed_at = revision_id, by, now
    session.flush()
    return mark


def audit_summary(rev: TemplateRevision, replaced: TemplateRevision | None = None) -> Mapping[str, Any]:
    """What the audit log keeps of an edit or a decision (the text cut and masked by `app.audit`)."""
    summary: dict[str, Any] = {
        "language": rev.language,
        "revision": rev.id,
        "state": rev.state,
        "title": rev.title,
        "body": rev.body,
    }
    if rev.reason:
        summary["reason"] = rev.reason
    if replaced is not None:
        summary["superseded"] = replaced.id
    return summary
