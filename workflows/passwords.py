"""The password policy: at least MIN_PASSWORD_LENGTH characters, not on the shipped list of common passwords (even
decorated with digits), not the person's own names. Used by users (new accounts) and accounts (new passwords)."""
from __future__ import annotations

from pathlib import Path

from workflows.errors import InvalidInput
from workflows.messages import Text
from workflows.text import fold

MIN_PASSWORD_LENGTH = 10
_COMMON_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
_common: frozenset[str] | None = None


def _common_passwords() -> frozenset[str]:
    global _common
    if _common is None:
        _common = frozenset(line.strip().lower() for line in _COMMON_FILE.read_text(encoding="utf-8").splitlines()
                            if line.strip() and not line.startswith("#"))
    return _common


def _folded(value: str) -> str:
    # lower case, no diacritics (Nguyễn → nguyen), letters and digits only
    return "".join(ch for ch in fold(value) if ch.isalnum())


def password_problem(password: str, username: str = "", full_name: str = "") -> Text | None:
    """Why PASSWORD is too weak, or None: length, the list of common passwords, the person's own names."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Text("Mật khẩu cần ít nhất {n} ký tự.", n=MIN_PASSWORD_LENGTH)
    folded = _folded(password)
    common = _common_passwords()
    # "Password2024!" is "password" with decoration: strip trailing digits and symbols before looking it up.
    stem = folded.rstrip("0123456789")
    if password.lower() in common or folded in common or stem in common or len(set(folded)) < 4:
        return Text("Mật khẩu này quá phổ biến, dễ đoán; hãy chọn mật khẩu khác.")
    names = [_folded(username)] + [_folded(part) for part in full_name.split()] + [_folded(full_name)]
    if any(len(n) >= 3 and n in folded for n in names) or "bacninh" in folded:
        return Text("Mật khẩu không được chứa tên đăng nhập, họ tên hoặc tên cơ quan.")
    return None


def check_password_policy(password: str, username: str = "", full_name: str = "") -> None:
    problem = password_problem(password, username, full_name)
    if problem is not None:
        raise InvalidInput(Text("Mật khẩu chưa đạt yêu cầu."), {"password": problem})
