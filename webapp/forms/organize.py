"""Settings › Organize: the staged moves to preview and apply, and undoing an applied change."""
from flask_wtf import FlaskForm
from wtforms import HiddenField


class StagedMovesForm(FlaskForm):
    """The staged moves, as the page's script wrote them (JSON); the rules check every part."""

    moves = HiddenField()


class UndoForm(FlaskForm):
    """Undo carries nothing but its CSRF token; the change is in the URL."""
