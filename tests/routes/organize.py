"""Routes of Settings › Organize: the board, the preview, applying and undoing."""
from ..access_matrix import RouteCase, fixed, register
from .access_groups import account_level

# Nothing staged: allowed visitors are told there is nothing to save (422), others never get that far.
NOTHING = {"moves": "[]"}

register(RouteCase("organize.index", "GET", fixed("/settings/organize"), account_level(200, 200)))
register(RouteCase("organize.preview", "POST", fixed("/settings/organize/preview"), account_level(422, 422),
                   data=NOTHING))
register(RouteCase("organize.apply", "POST", fixed("/settings/organize/apply"), account_level(422, 422),
                   data=NOTHING))
register(RouteCase("organize.undo", "POST", fixed("/settings/organize/undo/999999"), account_level(409, 409)))
