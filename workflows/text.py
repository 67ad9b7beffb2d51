"""Vietnamese text: search without diacritics, and sorting in Vietnamese alphabetical order."""
from __future__ import annotations

import unicodedata

# The Vietnamese alphabet; letters with a breve, circumflex or horn are letters of their own, sorted after the base.
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_ORDER = {letter: index for index, letter in enumerate(_ALPHABET)} | {" ": -1}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền, hỏi, ngã, sắc, nặng
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter


def fold(text: str) -> str:
    """Lower case without any diacritics: 'Sở Tài chính' → 'so tai chinh'."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def sort_key(text: str) -> tuple:
    """Collation key: letters by the Vietnamese alphabet first, then tones, as a dictionary orders words."""
    letters: list[int] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFC", text.lower()):
        decomposed = unicodedata.normalize("NFD", char)
        base = decomposed[0]
        marks = decomposed[1:]
        letter_marks = "".join(m for m in marks if m in _LETTER_MARKS)
        letter = unicodedata.normalize("NFC", base + letter_marks) if base != "đ" else "đ"
        letters.append(_ORDER.get(letter, 100 + ord(letter)))
        tones.append(max((_TONES.get(m, 0) for m in marks), default=0))
    return tuple(letters), tuple(tones)
