from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from faq import entry_store
from faq.corpus import Entry, parse_file
from faq.service import SEED_CORPUS
from storage.db import make_engine, make_sessionmaker, session_scope

SEED = [Entry(id="a", question="質問", answer="回答"), Entry(id="a", question="Q", answer="A", lang="en")]


def test_seeding_happens_once(session: Session) -> None:
    assert entry_store.version(session) == 0
    assert entry_store.seed_if_new(session, SEED) is True
    session.commit()
    assert entry_store.seed_if_new(session, SEED) is False
    session.commit()
    assert entry_store.count(session) == 2 and entry_store.version(session) == 1


def test_edits_bump_the_version(session: Session) -> None:
    entry_store.seed_if_new(session, SEED)
    session.commit()
    entry_store.upsert(session, [Entry(id="a", question="新しい質問", answer="新しい回答")])
    session.commit()
    assert entry_store.version(session) == 2 and entry_store.get(session, "a", "ja") is not None
    assert entry_store.get(session, "a", "ja").question == "新しい質問"  # type: ignore[union-attr]
    assert entry_store.delete(session, "a", "en") and not entry_store.delete(session, "a", "en")
    session.commit()
    assert entry_store.version(session) == 3 and entry_store.count(session) == 1


def test_concurrent_first_starts_seed_exactly_once(db_url: str) -> None:
    corpus = parse_file(SEED_CORPUS)
    results: list[bool] = []
    errors: list[BaseException] = []

    def start() -> None:
        engine = make_engine(db_url, pool_size=1)
        try:
            with session_scope(make_sessionmaker(engine)) as s:
                results.append(entry_store.seed_if_new(s, corpus))
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(results) == [False, False, False, True]
    engine = make_engine(db_url, pool_size=1)
    with make_sessionmaker(engine)() as s:
        assert entry_store.count(s) == len(corpus)
    engine.dispose()
