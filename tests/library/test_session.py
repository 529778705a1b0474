"""`Database.as_user` / `transaction` as one transaction on a borrowed connection: committed on
success, rolled back on an error, the connection always back in the pool (a pool of one would
otherwise time out on the next borrow), and no way to commit half-way under the user's role."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, cast

import psycopg
import pytest

from netplus_db import querylayer
from netplus_db.config import Target
from netplus_db.database import AsyncDatabase, Database
from netplus_db.errors import NotFound, TransactionLost
from netplus_db.session import GuardedConnection
from tests.support import factories
from tests.support.sessions import (
    LOST,
    QUICK,
    RETRYING,
    ROLLBACK_FAILED,
    TERMINATE,
    alend_anything,
    count_bookmarks,
    lend_anything,
    mark,
    pool_cleanups,
    session_log,
)


def test_a_block_commits_on_success_and_rolls_back_on_an_error(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    user, component = factories.user(conn), factories.component(conn)
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with lib.as_user(user) as q:
            q.bookmarks.save_bookmark(**mark(user, component))
        assert count_bookmarks(conn, user) == 1
        with pytest.raises(RuntimeError, match="after the write"), lib.as_user(user) as q:
            q.bookmarks.delete_bookmark(user_id=user, component_id=component)
            raise RuntimeError("after the write")
        assert count_bookmarks(conn, user) == 1  # the delete was rolled back
        with lib.as_user(user) as q:  # and the one connection is back in the pool
            assert q.conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert lib.pool.get_stats()["pool_available"] == 1


def test_psycopg_rollback_inside_a_block_is_handled_quietly(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    user, component = factories.user(conn), factories.component(conn)
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with lib.as_user(user) as q:
            q.bookmarks.save_bookmark(**mark(user, component))
            raise psycopg.Rollback()
        assert count_bookmarks(conn, user) == 0
        with lib.transaction() as q:
            assert q.conn.execute("SELECT current_user").fetchone() != ("app_user",)


def test_an_explicit_commit_under_the_users_role_is_refused(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    user, component = factories.user(conn), factories.component(conn)
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with pytest.raises(psycopg.ProgrammingError, match="commit"), lib.as_user(user) as q:
            q.bookmarks.save_bookmark(**mark(user, component))
            q.conn.commit()  # would end SET LOCAL ROLE and go on as the connecting role
        assert count_bookmarks(conn, user) == 0
        with lib.as_user(user) as q:
            assert q.conn.execute("SELECT current_user").fetchone() == ("app_user",)


def test_the_async_block_commits_rolls_back_and_returns_the_connection(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    user, component = factories.user(conn), factories.component(conn)

    async def scenario() -> tuple[int, int, int]:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib:
            async with lib.as_user(user) as q:
                await q.bookmarks.save_bookmark(**mark(user, component))
            kept = await asyncio.to_thread(count_bookmarks, conn, user)
            with pytest.raises(RuntimeError):
                async with lib.as_user(user) as q:
                    await q.bookmarks.delete_bookmark(user_id=user, component_id=component)
                    raise RuntimeError("after the write")
            with pytest.raises(psycopg.ProgrammingError, match="commit"):
                async with lib.as_user(user) as q:
                    await q.conn.commit()
            still = await asyncio.to_thread(count_bookmarks, conn, user)
            return kept, still, lib.pool.get_stats()["pool_available"]

    assert asyncio.run(scenario()) == (1, 1, 1)


def test_a_connection_found_dead_by_its_begin_is_replaced_once(
    db: Target, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    user = factories.user(conn)
    with Database(db, min_size=1, max_size=1, timeout=QUICK, check=lend_anything) as lib:
        with lib.as_user(user) as q:
            killed = q.conn.info.backend_pid
        conn.execute(TERMINATE)
        with (
            caplog.at_level("INFO", logger="netplus_db.session"),
            lib.as_user(user) as q,  # BEGIN fails on the dead one; the retry gets a new one
        ):
            assert q.conn.info.backend_pid != killed
            assert q.users.get_user(user_id=user) is not None
        assert lib.pool.get_stats()["returns_bad"] == 1  # the dead one was discarded
    assert len(session_log(caplog, RETRYING)) == 1


def test_the_async_block_replaces_a_connection_found_dead_by_its_begin(
    db: Target, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    user = factories.user(conn)

    async def scenario() -> tuple[int, int]:
        async with AsyncDatabase(
            db, min_size=1, max_size=1, timeout=QUICK, check=alend_anything
        ) as lib:
            async with lib.as_user(user) as q:
                killed = q.conn.info.backend_pid
            await asyncio.to_thread(conn.execute, TERMINATE)
            async with lib.as_user(user) as q:
                assert await q.users.get_user(user_id=user) is not None
                return killed, q.conn.info.backend_pid

    with caplog.at_level("INFO", logger="netplus_db.session"):
        killed, now = asyncio.run(scenario())
    assert now != killed
    assert len(session_log(caplog, RETRYING)) == 1


def test_a_session_cannot_be_entered_twice(db: Target) -> None:
    with Database(db, min_size=1, max_size=2, timeout=QUICK) as lib:
        session = lib.as_user(None)
        twice = r"^a session is one transaction: it cannot be entered twice$"
        with session, pytest.raises(RuntimeError, match=twice), session:
            pass
        assert lib.pool.get_stats()["pool_available"] >= 1  # the first loan came back


def test_a_rollback_inside_the_block_is_refused_and_outside_allowed(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    user, component = factories.user(conn), factories.component(conn)
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with pytest.raises(psycopg.ProgrammingError, match="rollback"), lib.as_user(user) as q:
            q.bookmarks.save_bookmark(**mark(user, component))
            q.conn.rollback()
        assert count_bookmarks(conn, user) == 0  # the block's error rolled it back
        with lib.pool.connection() as c:  # outside a session the connection is plain psycopg
            assert c.autocommit
            c.execute("BEGIN")
            c.rollback()
            assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_failed_statement_leaves_no_transaction_on_the_returned_connection(
    db: Target, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    user = factories.user(conn)
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with (
            caplog.at_level("WARNING", logger="psycopg.pool"),
            pytest.raises(psycopg.errors.UndefinedTable),
            lib.as_user(user) as q,
        ):
            q.conn.execute("SELECT * FROM no_such_table")
        # the session rolled back itself: the pool never had to clean up after it
        assert not pool_cleanups(caplog)
        with lib.pool.connection() as c:
            assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            assert c.execute("SELECT current_user").fetchone() != ("app_user",)


def test_the_async_block_refuses_a_rollback_inside_and_leaves_no_transaction_behind(
    db: Target, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    user, component = factories.user(conn), factories.component(conn)

    async def scenario() -> tuple[int, str, str, str, bool]:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib:
            with pytest.raises(psycopg.ProgrammingError, match="rollback"):
                async with lib.as_user(user) as q:
                    await q.bookmarks.save_bookmark(**mark(user, component))
                    await q.conn.rollback()
            saved = await asyncio.to_thread(count_bookmarks, conn, user)
            with pytest.raises(psycopg.errors.UndefinedTable):
                async with lib.as_user(user) as q:
                    await q.conn.execute("SELECT * FROM no_such_table")
            async with lib.pool.connection() as c:  # what the failed block gave back
                after_failure = c.info.transaction_status.name
                row = await (await c.execute("SELECT current_user")).fetchone()
                role = "" if row is None else str(row[0])
                await c.execute("BEGIN")
                await c.rollback()  # outside a session the connection is plain psycopg
                after_rollback = c.info.transaction_status.name
            async with lib.as_user(user) as q:  # the BEGIN cursor is kept on the connection
                first = getattr(q.conn, "_netplus_begin", None)
            async with lib.as_user(user) as q:
                kept = first is not None and getattr(q.conn, "_netplus_begin", None) is first
            return saved, after_failure, role, after_rollback, kept

    with caplog.at_level("WARNING", logger="psycopg.pool"):
        saved, after_failure, role, after_rollback, kept = asyncio.run(scenario())
    # the session rolled back itself: the pool never had to clean up after it
    assert not pool_cleanups(caplog)
    assert saved == 0  # the refused rollback's error rolled the block back
    assert after_failure == after_rollback == "IDLE"
    assert role != "app_user" and kept


def test_a_pooled_connection_reuses_its_cursors_but_keeps_no_large_result(
    db: Target, conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = factories.user(conn)
    components = [factories.component(conn) for _ in range(3)]
    monkeypatch.setattr(querylayer, "KEEP_CURSOR_ROWS", 2)  # three bookmarks: "large"
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with lib.as_user(user) as q:
            q.bookmarks.save_bookmark(**mark(user, components[0]))
            first = q.bookmarks.list_bookmarks(user_id=user)
            spare = list(getattr(q.conn, querylayer.SPARE_CURSORS))
            begin = cast(GuardedConnection, q.conn)._netplus_begin
        with lib.as_user(user) as q:
            for component in components[1:]:
                q.bookmarks.save_bookmark(**mark(user, component))
            # the same cursor served every statement, and the same BEGIN cursor
            assert getattr(q.conn, querylayer.SPARE_CURSORS) == spare and len(spare) == 1
            assert begin is not None
            assert cast(GuardedConnection, q.conn)._netplus_begin is begin
        with pytest.raises(NotFound), lib.as_user(user) as q:  # a statement fails on it ...
            q.bookmarks.save_bookmark(**mark(user, uuid.uuid4()))
        with lib.as_user(user) as q:
            everything = q.bookmarks.list_bookmarks(user_id=user)  # ... and the next one works
            # three rows is "large" here: that cursor is closed, not kept
            assert spare[0].closed and getattr(q.conn, querylayer.SPARE_CURSORS) == []
    assert [b.component_id for b in first] == [components[0]]  # earlier rows stay as fetched
    assert sorted(b.component_id for b in everything) == sorted(components)


def test_an_async_pooled_connection_reuses_its_cursors(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    user, component = factories.user(conn), factories.component(conn)

    async def scenario() -> tuple[bool, int, int]:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib:
            async with lib.as_user(user) as q:
                await q.bookmarks.save_bookmark(**mark(user, component))
                spare = list(getattr(q.conn, querylayer.SPARE_CURSORS))
            async with lib.as_user(user) as q:
                rows = await q.bookmarks.list_bookmarks(user_id=user)
                same = getattr(q.conn, querylayer.SPARE_CURSORS) == spare
            return same, len(spare), len(rows)

    assert asyncio.run(scenario()) == (True, 1, 1)


IDENTITY = "SELECT pg_backend_pid(), current_user, current_setting('app.user_id', true)"


def test_the_next_borrower_of_a_pooled_connection_inherits_no_user(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """A pool of one: whoever borrows the connection right after a learner's block (a plain
    borrow, a transaction as the connecting role) finds no app.user_id and its own role.
    Nothing in between resets the setting, so a session-level set_config would show here."""
    user, component = factories.user(conn), factories.component(conn)
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with lib.as_user(user) as q:
            q.bookmarks.save_bookmark(**mark(user, component))
            inside = q.conn.execute(IDENTITY).fetchone()
        assert inside is not None and inside[1:] == ("app_user", str(user))
        with lib.pool.connection() as borrowed:
            after = borrowed.execute(IDENTITY).fetchone()
        assert after is not None and after[0] == inside[0]  # the very same connection
        assert after[1] != "app_user" and after[2] in ("", None)
        with lib.transaction() as q:
            again = q.conn.execute(IDENTITY).fetchone()
            # The connecting role sees every user's bookmark, not a leaked user's rows.
            assert q.conn.execute("SELECT app_current_user_id()").fetchone() == (None,)
        assert again is not None and again[0] == inside[0] and again[2] in ("", None)


def test_the_next_async_borrower_of_a_pooled_connection_inherits_no_user(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    user, component = factories.user(conn), factories.component(conn)

    async def scenario() -> tuple[Any, Any]:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib:
            async with lib.as_user(user) as q:
                await q.bookmarks.save_bookmark(**mark(user, component))
                inside = await (await q.conn.execute(IDENTITY)).fetchone()
            async with lib.pool.connection() as borrowed:
                after = await (await borrowed.execute(IDENTITY)).fetchone()
            return inside, after

    inside, after = asyncio.run(scenario())
    assert inside[1:] == ("app_user", str(user))
    assert after[0] == inside[0] and after[1] != "app_user" and after[2] in ("", None)


class Boom(Exception):
    """The error a block raises after its connection died."""


def test_a_block_whose_connection_died_raises_its_own_error_and_warns(
    db: Target, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The block's error is what the caller sees; the failed ROLLBACK is only logged (the pool
    discards the connection), in both forms."""
    user = factories.user(conn)
    with (
        Database(db, min_size=1, max_size=1) as lib,
        caplog.at_level("WARNING", logger="netplus_db.session"),
        pytest.raises(Boom),
        lib.as_user(user) as q,
    ):
        q.conn.execute("SELECT 1")
        conn.execute(TERMINATE)
        raise Boom
    assert len(session_log(caplog, ROLLBACK_FAILED)) == 1
    caplog.clear()

    async def scenario() -> None:
        async with AsyncDatabase(db, min_size=1, max_size=1) as lib:
            with pytest.raises(Boom):
                async with lib.as_user(user) as q:
                    await q.conn.execute("SELECT 1")
                    await asyncio.to_thread(conn.execute, TERMINATE)
                    raise Boom

    with caplog.at_level("WARNING", logger="netplus_db.session"):
        asyncio.run(scenario())
    assert len(session_log(caplog, ROLLBACK_FAILED)) == 1


def test_an_async_session_cannot_be_entered_twice(db: Target) -> None:
    async def scenario() -> int:
        async with AsyncDatabase(db, min_size=1, max_size=2, timeout=QUICK) as lib:
            session = lib.as_user(None)
            async with session:
                with pytest.raises(
                    RuntimeError,
                    match=r"^a session is one transaction: it cannot be entered twice$",
                ):
                    async with session:
                        pass
            available: int = lib.pool.get_stats()["pool_available"]
            return available

    assert asyncio.run(scenario()) >= 1  # the first loan came back


def test_a_read_only_block_is_a_read_only_transaction_and_a_plain_one_is_not(
    db: Target, conn: psycopg.Connection[Any]
) -> None:
    """Without replicas, `read_only=True` runs on the primary, still READ ONLY: a write that
    slipped past the query guard is refused by the server. Both forms."""
    user = factories.user(conn)
    show = "SELECT current_setting('transaction_read_only')"
    write = "DELETE FROM bookmarks WHERE user_id = app_current_user_id()"
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with lib.as_user(user) as q:
            assert q.conn.execute(show).fetchone() == ("off",)
        with lib.as_user(user, read_only=True) as q:
            assert q.conn.execute(show).fetchone() == ("on",)
        with (
            pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
            lib.as_user(user, read_only=True) as q,
        ):
            q.conn.execute(write)

    async def scenario() -> list[Any]:
        seen = []
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib:
            async with lib.as_user(user) as q:
                seen.append(await (await q.conn.execute(show)).fetchone())
            async with lib.as_user(user, read_only=True) as q:
                seen.append(await (await q.conn.execute(show)).fetchone())
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                async with lib.as_user(user, read_only=True) as q:
                    await q.conn.execute(write)
        return seen

    assert asyncio.run(scenario()) == [("off",), ("on",)]


def test_a_connection_lost_inside_a_block_is_a_transaction_lost(
    db: Target, conn: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    """The server goes away mid-block: the caller gets TransactionLost (retriable: nothing
    was written), caused by psycopg's error, and the pool recovers. Nothing is rolled back
    on a connection known closed, so no failed ROLLBACK is logged. Both forms."""
    user = factories.user(conn)
    caplog.set_level("WARNING", logger="netplus_db.session")
    with Database(db, min_size=1, max_size=1, timeout=QUICK) as lib:
        with pytest.raises(TransactionLost, match=LOST) as caught, lib.as_user(user) as q:
            conn.execute(TERMINATE)
            q.conn.execute("SELECT 1")
        assert caught.value.retriable
        assert isinstance(caught.value.__cause__, psycopg.OperationalError)
        with lib.as_user(user) as q:
            assert q.users.get_user(user_id=user) is not None

    async def scenario() -> bool:
        async with AsyncDatabase(db, min_size=1, max_size=1, timeout=QUICK) as lib:
            with pytest.raises(TransactionLost, match=LOST) as lost:
                async with lib.as_user(user) as q:
                    await asyncio.to_thread(conn.execute, TERMINATE)
                    await q.conn.execute("SELECT 1")
            assert isinstance(lost.value.__cause__, psycopg.OperationalError)
            async with lib.as_user(user) as q:
                return await q.users.get_user(user_id=user) is not None

    assert asyncio.run(scenario())
    assert session_log(caplog, "^rollback failed") == []
