"""What a staff password must be: at least 12 characters, not easy to guess (zxcvbn score 3 or more),
without the username in it. Messages Japanese first, then English (pure functions)."""

from __future__ import annotations

import unicodedata

MIN_LENGTH = 12
MAX_LENGTH = 256  # longer passwords are refused (bounded hashing work)
MIN_SCORE = 3  # zxcvbn: 0 too guessable … 4 very unguessable
ZXCVBN_CHARS = 72  # zxcvbn refuses longer input; its estimate is about the start of a password anyway


def password_problems(password: str, username: str) -> list[str]:
    """Why `password` cannot be used by `username` (empty: it can)."""
    if len(password) < MIN_LENGTH:
        return [
            f"パスワードは{MIN_LENGTH}文字以上にしてください / "
            f"The password must be at least {MIN_LENGTH} characters"
        ]
    if len(password) > MAX_LENGTH:
        return [
            f"パスワードは{MAX_LENGTH}文字以内にしてください / "
            f"The password must be at most {MAX_LENGTH} characters"
        ]
    problems: list[str] = []
    name = _folded(username)
    if len(name) >= 3 and name in _folded(password):
        problems.append(
            "パスワードにユーザー名を含めないでください / The password must not contain the username"
        )
    from zxcvbn import zxcvbn  # loads its dictionaries (~0.1 s) on first use only

    result = zxcvbn(password[:ZXCVBN_CHARS], user_inputs=[username])
    if result["score"] < MIN_SCORE:
        hint = result["feedback"].get("warning") or "add more words or characters"
        problems.append(
            "推測されやすいパスワードです。単語を増やすなど、より長く複雑にしてください / "
            f"The password is too easy to guess ({hint})"
        )
    return problems


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace(" ", "")
