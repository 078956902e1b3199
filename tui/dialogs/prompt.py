"""``PromptDialog``: a small form of text fields that validates as you type; returns a dict.

Each field may carry a domain check (``hotline``/``episodes`` function raising
``HotlineError``); its message appears under the field while the value is refused, and
the form will not close with a refused value. Enter moves to the next field (not past a
refused one) and, on the last one, submits; ``ctrl+s`` submits from anywhere; Escape
cancels (the dialog returns None).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from tui.widgets.domain_check import DomainCheck


@dataclass(frozen=True)
class Field:
    """One line of a form."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    check: Callable[[str], Any] | None = None


class PromptDialog(ModalScreen[dict[str, str] | None]):
    """A modal form; ``dismiss`` returns ``{field name: text}`` or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "取消"),
        Binding("ctrl+s", "submit", "确定"),
    ]

    def __init__(self, title: str, fields: Sequence[Field], *, submit_label: str = "确定") -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.fields = list(fields)
        self.submit_label = submit_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            for spec in self.fields:
                yield Label(spec.label, classes="field-label", markup=False)
                yield Input(
                    spec.value,
                    placeholder=spec.placeholder,
                    id=f"field-{spec.name}",
                    validators=[DomainCheck(spec.check)] if spec.check else None,
                    validate_on=["changed", "submitted"],
                    valid_empty=spec.check is None,
                )
                yield Label("", id=f"error-{spec.name}", classes="field-error", markup=False)
            yield from self.compose_extra()
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.submit_label, variant="primary", id="ok")
                yield Button("取消", id="cancel")

    def compose_extra(self) -> ComposeResult:
        """Widgets a subclass shows under the fields (a hint, a preview)."""
        yield from ()

    def input(self, name: str) -> Input:
        return self.query_one(f"#field-{name}", Input)

    def values(self) -> dict[str, str]:
        return {spec.name: self.input(spec.name).value for spec in self.fields}

    def show_error(self, name: str, text: str) -> None:
        self.query_one(f"#error-{name}", Label).update(text)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        result = event.validation_result
        text = "" if result is None or result.is_valid else "; ".join(result.failure_descriptions)
        self.show_error(name, text)

    @on(Input.Submitted)
    def _next_or_submit(self, event: Input.Submitted) -> None:
        event.stop()
        result = event.validation_result
        if result is not None and not result.is_valid:
            name = (event.input.id or "").removeprefix("field-")
            self.show_error(name, "; ".join(result.failure_descriptions))
            return  # stay on the refused field
        inputs = list(self.query(Input))
        if event.input is inputs[-1]:
            self.action_submit()
        else:
            inputs[inputs.index(event.input) + 1].focus()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    def action_submit(self) -> None:
        first_bad: Input | None = None
        for spec in self.fields:
            field_input = self.input(spec.name)
            result = field_input.validate(field_input.value)
            if result is not None and not result.is_valid:
                self.show_error(spec.name, "; ".join(result.failure_descriptions))
                first_bad = first_bad or field_input
        if first_bad is not None:
            first_bad.focus()
            return
        self.dismiss(self.values())

    def action_cancel(self) -> None:
        self.dismiss(None)
