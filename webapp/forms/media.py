"""Sidebar › Media: the library's filter, uploads, and moving or deleting a selection."""
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import (
    HiddenField,
    IntegerField,
    MultipleFileField,
    SearchField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from .. import media as rules
from . import QueryForm

KIND_LABELS = {"": "All types", "image": "Images", "video": "Videos"}


class LibraryQuery(QueryForm):
    """The library's filter and paging."""

    q = SearchField("Search by name", validators=[Optional(), Length(max=120)])
    kind = SelectField("Type", choices=list(KIND_LABELS), default="")
    cursor = HiddenField(validators=[Optional(), Length(max=80)])

    def library_filter(self) -> rules.LibraryFilter:
        if not self.validate():
            return rules.LibraryFilter()
        return rules.LibraryFilter(kind=self.kind.data or None, text=(self.q.data or "").strip())

    def from_the_filter(self) -> bool:
        """The query was sent by the filter form, which always sends its fields, not by a link into the page."""
        return bool(self.q.raw_data or self.kind.raw_data)


class UploadForm(FlaskForm):
    files = MultipleFileField("Files")

    def chosen_files(self) -> list[FileStorage]:
        """The files sent, less the empty one a browser sends when none was chosen."""
        return [upload for upload in (self.files.data or []) if upload and upload.filename]

    def validate_files(self, field: MultipleFileField) -> None:
        if not self.chosen_files():
            raise ValidationError("Choose one or more files to upload.")


class SelectionQuery(QueryForm):
    """The selected items, for a confirmation dialog."""

    # The rules say what is wrong with a selection (not an item, too many, gone) better than
    # "Not a valid choice".
    item = SelectMultipleField(validate_choice=False)


class SelectionForm(FlaskForm):
    """The selected items, for deleting them."""

    # As in SelectionQuery: the rules read the selection.
    item = SelectMultipleField(validate_choice=False)


class MoveForm(SelectionForm):
    target = IntegerField("Move to", validators=[InputRequired(message="Choose the group to move the items to.")])


class AltTextForm(FlaskForm):
    """An item's alt text; the rules check its length (after tidying it) and say what is wrong."""

    alt_text = TextAreaField("Describe the image for people who cannot see it")
