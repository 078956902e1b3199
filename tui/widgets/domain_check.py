"""``DomainCheck``: an Input validator that runs a domain check and shows its refusal as is.

Forms validate as the producer types with the very functions the CLI calls, so a field
is refused with the same reason ``hotline …`` would print (its Chinese line where the
domain gives one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.validation import ValidationResult, Validator

from hotline.errors import HotlineError
from tui.wording import in_chinese


class DomainCheck(Validator):
    """Valid when ``check(value)`` returns; invalid with the ``HotlineError`` message."""

    def __init__(self, check: Callable[[str], Any]) -> None:
        super().__init__()
        self.check = check

    def validate(self, value: str) -> ValidationResult:
        try:
            self.check(value)
        except HotlineError as exc:
            return self.failure(in_chinese(exc), value)
        return self.success()
