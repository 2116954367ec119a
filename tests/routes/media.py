"""Routes of Sidebar › Media: the library, uploads, files, moving or deleting a selection, undoing a move."""
from ..access_matrix import SIGN_IN, RouteCase, World, group_page, register, register_builder
from .. import factories

from datetime import datetime, timedelta, timezone

from webapp import media
from webapp.extensions import db
from webapp.storage import media_storage

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@register_builder
def media_items(world: World) -> None:
    """A stored item with a thumbnail in every target group, and a second group to move items into."""
    storage = media_storage()
    world.objects["media"] = {}
    for target, group in world.groups.items():
        item = factories.make_media(group, "matrix.png")
        item.storage_key = storage.save(PNG, ".png")
        item.thumbnail_key = storage.save(PNG, ".webp")
        world.objects["media"][target] = item
    own, foreign = world.groups["own"], world.groups["foreign"]
    second = factories.make_group(own.account, "Second")
    for role in ("admin", "manager", "client"):
        factories.add_to_group(world.users[role], second)
    world.objects["media_target"] = {
        "own": second, "unassigned": second, "foreign": factories.make_group(foreign.account, "Rival second"),
    }
    db.session.flush()


def media_rights(ok: int) -> dict[str, dict[str, int]]:
    """Managers, admins and the owner hold the media rights; clients see the group but not its library."""
    return {
        "own": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 403, "manager": ok,
                "admin": ok, "owner": ok},
        "unassigned": {"anonymous": SIGN_IN, "other_account_owner": 404, "client": 404,
                       "manager": 404, "admin": 404, "owner": ok},
        "foreign": {"anonymous": SIGN_IN, "other_account_owner": ok, "client": 404, "manager": 404,
                    "admin": 404, "owner": 404},
    }


def files(ok: int) -> dict[str, dict[str, int]]:
    """A file is found only by those who may view its library (or see a post using it): others get 404."""
    statuses = media_rights(ok)
    statuses["own"]["client"] = 404
    return statuses


def item_page(suffix: str = ""):
    return lambda world, target: (
        f"/g/{world.groups[target].id}/media/{world.objects['media'][target].id}{suffix}")


def item_file(kind: str):
    return lambda world, target: f"/media/{world.objects['media'][target].id}/{kind}"


def with_selection(path: str):
    return lambda world, target: (
        f"/g/{world.groups[target].id}/media/{path}?item={world.objects['media'][target].id}")


def selection(move: bool = False):
    """The form naming the target's item (and, for a move, a group of its account to move it to)."""
    def form(world: World, target: str) -> dict:
        data = {"item": str(world.objects["media"][target].id)}
        if move:
            data["target"] = str(world.objects["media_target"][target].id)
        return data
    return form


register(RouteCase("media.index", "GET", group_page("media"), media_rights(200)))
register(RouteCase("media.upload", "POST", group_page("media/upload"), media_rights(303)))
register(RouteCase("media.show", "GET", item_page(), media_rights(200)))
register(RouteCase("media.alt_text", "POST", item_page("/alt-text"), media_rights(303),
                   data={"alt_text": "A red square on white"}))
register(RouteCase("media.file", "GET", item_file("file"), files(200)))
register(RouteCase("media.thumbnail", "GET", item_file("thumbnail"), files(200)))
register(RouteCase("media.move_dialog", "GET", with_selection("move"), media_rights(200)))
register(RouteCase("media.delete_dialog", "GET", with_selection("delete"), media_rights(200)))
register(RouteCase("media.move", "POST", group_page("media/move"), media_rights(303), data=selection(move=True)))
register(RouteCase("media.delete", "POST", group_page("media/delete"), media_rights(303), data=selection()))


@register_builder
def media_moves(world: World) -> None:
    """A move of an item out of each target group, to undo: by the manager from the visitors' group (the
    admin and the owner may move media in both groups), by each account's owner elsewhere. Dated ahead,
    so its Undo stays open however long the matrix runs."""
    movers = {"own": world.users["manager"], "unassigned": world.users["owner"],
              "foreign": world.users["other_account_owner"]}
    world.objects["media_move"] = {}
    for target, mover in movers.items():
        group = world.groups[target]
        item = factories.make_media(group, "moved.png")
        event = media.move_media_items(group, [item.id], world.objects["media_target"][target], mover)
        event.created_at = datetime.now(timezone.utc) + timedelta(days=1)
        world.objects["media_move"][target] = event
    db.session.flush()


def undo_move_url(world: World, target: str) -> str:
    return f"/g/{world.groups[target].id}/media/moves/{world.objects['media_move'][target].id}/undo"


register(RouteCase("media.undo_move", "POST", undo_move_url, media_rights(303)))
