"""Masking of personal details before text is stored or logged.

Residents sometimes type their phone number, e-mail, My Number (12 digits) or street address into
the chat. Anything kept for staff (unanswered questions, logs) passes through `mask_pii` first.
"""

from __future__ import annotations

import re
import unicodedata

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 12-digit numbers (My Number), with optional separators, before phone numbers so they win.
_TWELVE = re.compile(r"(?<!\d)\d{4}[- ]?\d{4}[- ]?\d{4}(?!\d)")
# Japanese phone numbers: 0X-XXXX-XXXX, 0XX-XXX-XXXX, 090XXXXXXXX, +81 ...
_PHONE = re.compile(r"(?<!\d)(?:\+81[- ]?|0)\d{1,4}[- (]?\d{1,4}[- )]?\d{3,4}(?!\d)")
# Street addresses: a prefecture/city/town name followed by block numbers (丁目, 番地, 号, 1-2-3).
_ADDRESS = re.compile(
    r"(?:[一-龥ぁ-んァ-ヶー]{1,8}(?:都|道|府|県))?"
    r"[一-龥ぁ-んァ-ヶー]{1,8}(?:市|区|町|村)"
    r"[一-龥ぁ-んァ-ヶー0-9]*?"
    r"\d+(?:丁目|番地?|号|[-‐－]\d+)(?:[-‐－]?\d+(?:番地?|号)?)*"
)
_USER_ID = re.compile(r"\bU[0-9a-f]{32}\b")


def mask_pii(text: str) -> str:
    """Replace e-mail addresses, 12-digit numbers, phone numbers and street addresses with tags."""
    text = unicodedata.normalize("NFKC", text)
    text = _EMAIL.sub("[メール]", text)
    text = _TWELVE.sub("[番号]", text)
    text = _ADDRESS.sub("[住所]", text)
    text = _PHONE.sub("[電話]", text)
    return text


def mask_user_id(user_id: str | None) -> str:
    """Shorten a LINE user ID for logs: `U1234…abcd`."""
    if not user_id:
        return "-"
    return f"{user_id[:5]}…{user_id[-4:]}" if len(user_id) > 12 else "…"


def mask_ids_in(text: str) -> str:
    """Mask every LINE user ID that appears in a free text (e.g. an error body)."""
    return _USER_ID.sub(lambda m: mask_user_id(m.group(0)), text)
