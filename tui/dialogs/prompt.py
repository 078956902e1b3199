"""``PromptDialog``: a small form of text fields that validates as you type and stays open
until what it asks for is done.

Each field may carry a domain check (``hotline``/``episodes`` function raising
``HotlineError``); its message appears under the field while the value is refused, the
field is marked, and the form will not be saved with a refused value. Enter moves to the
next field (not past a refused one) and, in the last one, saves; ``ctrl+s`` saves from
anywhere; Esc closes without saving. Both keys are in the dialog's footer.

Saving hands the values to ``on_save`` (the tab runs its change with them); the form
stays open, everything typed intact, until the change is done (``saved``) — a refusal
(``refused``) shows the reason at the field it concerns (or on its own line above the
buttons) and moves the cursor there. Without ``on_save`` the form closes with the values
(``dismiss``). A ``warning`` names what cannot be undone, above the buttons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Button, Input, Label

from hotline.errors import HotlineError
from hotline.text import clean_text
from tui.changes import blame, describe
from tui.dialogs.base import DeskDialog
from tui.keys import Key
from tui.widgets.data_label import DataLabel
from tui.widgets.desk_input import DeskInput
from tui.widgets.domain_check import DomainCheck

Save = Callable[["PromptDialog", dict[str, str]], None]


@dataclass(frozen=True)
class Field:
    """One line of a form."""

    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    check: Callable[[str], Any] | None = None
    subjects: tuple[str, ...] = ()
    """Words that, in a refusal's message, mean it is about this field ("air time")."""


def required(field: str, max_length: int = 100) -> Callable[[str], str]:
    """A field check that refuses a blank or over-long value the way the domain does."""
    return lambda text: clean_text(text, field=field, max_length=max_length, required=True)


class PromptDialog(DeskDialog[dict[str, str] | None]):
    """A modal form; it returns ``{field name: text}`` once saved, None when closed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Key("escape", "close", "取消", doc="close without saving"),
        Key(
            "ctrl+s",
            "submit",
            "保存",
            doc="save (Enter in the last field too; Enter elsewhere: next field)",
        ),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[Field],
        *,
        submit_label: str = "确定",
        warning: str = "",
        on_save: Save | None = None,
    ) -> None:
        super().__init__(title)
        self.fields = list(fields)
        self.submit_label = submit_label
        self.warning = warning
        self.on_save = on_save
        self.saving = False
        """Values handed to ``on_save``; waiting for the outcome (a second save waits too)."""

    def compose_body(self) -> ComposeResult:
        for spec in self.fields:
            yield DataLabel(spec.label, classes="field-label")
            yield DeskInput(
                spec.value,
                placeholder=spec.placeholder,
                id=f"field-{spec.name}",
                validators=[DomainCheck(spec.check)] if spec.check else None,
                validate_on=["changed", "submitted"],
                valid_empty=spec.check is None,
                compact=True,
            )
        yield from self.compose_extra()
        if self.warning:
            yield DataLabel(self.warning, id="form-warning", classes="dialog-warning")

    def compose_notice(self) -> ComposeResult:
        error = DataLabel("", id="form-error", classes="form-error")
        error.display = False  # no blank line until there is something to say
        yield error

    def compose_buttons(self) -> ComposeResult:
        yield Label("", classes="buttons-spacer")
        yield Button(f"{self.submit_label} (ctrl+s)", variant="primary", id="ok", compact=True)
        yield Button("取消 (Esc)", id="cancel", compact=True)

    def compose_extra(self) -> ComposeResult:
        """Widgets a subclass shows under the fields (a hint, a preview)."""
        yield from ()

    def input(self, name: str) -> Input:
        return self.query_one(f"#field-{name}", Input)

    def values(self) -> dict[str, str]:
        return {spec.name: self.input(spec.name).value for spec in self.fields}

    def show_error(self, name: str, text: str) -> None:
        field = self.input(name)
        found = self.query(f"#error-{name}")
        if found:
            label = found.first(Label)
            label.update(text)
            label.display = bool(text)  # no blank line under a field that is fine
        elif text:  # made when first needed: a form opens with one widget fewer per field
            field.parent.mount(
                DataLabel(text, id=f"error-{name}", classes="field-error"), after=field
            )
        if field.has_class("-invalid") != bool(text):
            field.set_class(bool(text), "-invalid")

    def show_form_error(self, text: str) -> None:
        label = self.query_one("#form-error", Label)
        if str(label.content) != text:
            label.update(text)
            label.display = bool(text)
            self.call_after_refresh(self.fit_body)  # a long reason may take a second line

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        if not event.input.id or not event.input.id.startswith("field-"):
            return
        result = event.validation_result
        text = "" if result is None or result.is_valid else _failures(result.failure_descriptions)
        self.show_error(name, text)
        self.show_form_error("")

    @on(Input.Submitted)
    def _next_or_submit(self, event: Input.Submitted) -> None:
        event.stop()
        result = event.validation_result
        if result is not None and not result.is_valid:
            name = (event.input.id or "").removeprefix("field-")
            self.show_error(name, _failures(result.failure_descriptions))
            return  # stay on the refused field
        inputs = [self.input(spec.name) for spec in self.fields]
        if event.input not in inputs or event.input is inputs[-1]:
            self.action_submit()
        else:
            inputs[inputs.index(event.input) + 1].focus()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_close()

    def action_submit(self) -> None:
        if self.saving:
            return  # the last save's outcome is on its way
        # The checks themselves, not Input.validate: that restyles every field it passes.
        first_bad: Input | None = None
        for spec in self.fields:
            if spec.check is None:
                continue
            field_input = self.input(spec.name)
            try:
                spec.check(field_input.value)
            except HotlineError as exc:
                self.show_error(spec.name, describe(exc))
                first_bad = first_bad or field_input
        if first_bad is not None:
            first_bad.focus()
            return
        if self.on_save is None:
            self.dismiss(self.values())
            return
        self.saving = True
        self.show_form_error("保存中…")
        self.on_save(self, self.values())

    # ------------------------------------------------------------ the outcome of on_save

    def saved(self) -> None:
        """The change is done: close with the values saved."""
        self.saving = False
        if self.is_attached:
            self.dismiss(self.values())

    def refused(self, error: BaseException | None, text: str) -> None:
        """Show why the change was refused (``text``), at its field if it names one; stay open."""
        self.saving = False
        if not self.is_attached:
            return
        subjects = {spec.name: spec.subjects for spec in self.fields if spec.subjects}
        name = blame(error, subjects) if isinstance(error, HotlineError) else None
        if name is not None and any(spec.name == name for spec in self.fields):
            self.show_error(name, text)
            self.show_form_error("未保存：见标红的一栏")
            self.input(name).focus()
        else:
            self.show_form_error(f"未保存：{text}")


def _failures(descriptions: list[str]) -> str:
    return "; ".join(descriptions)
