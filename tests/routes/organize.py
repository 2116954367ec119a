"""Routes of Settings › Organize: the board, the preview, applying and undoing."""
from ..access_matrix import RouteCase, account_settings, fixed, register

# Nothing staged: allowed visitors are told there is nothing to save (422), others never get that far.
NOTHING = {"moves": "[]"}

register(RouteCase("organize.index", "GET", fixed("/settings/organize"), account_settings(200)))
register(RouteCase("organize.preview", "POST", fixed("/settings/organize/preview"), account_settings(422),
                   data=NOTHING))
register(RouteCase("organize.apply", "POST", fixed("/settings/organize/apply"), account_settings(422),
                   data=NOTHING))
register(RouteCase("organize.undo", "POST", fixed("/settings/organize/undo/999999"), account_settings(409)))
