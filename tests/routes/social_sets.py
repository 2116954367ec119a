"""Routes of the social sets on an access group's Social Profiles tab."""
from ..access_matrix import RouteCase, World, register, register_builder
from .. import factories
from .access_groups import admins_only, settings_url


@register_builder
def empty_social_sets(world: World) -> None:
    """An empty set in every target group (each also holds a set with a profile), so delete succeeds."""
    world.objects["social_set"] = {
        target: factories.make_social_set(group, "Spare set") for target, group in world.groups.items()
    }


def set_url(action: str):
    """/settings/access-groups/<group>/social-sets/<set>/<action> for the target group's empty set."""
    return lambda world, target: (
        f"/settings/access-groups/{world.groups[target].id}/social-sets/"
        f"{world.objects['social_set'][target].id}/{action}"
    )


register(RouteCase("social_sets.create", "POST", settings_url("/social-sets"), admins_only(303),
                   data={"name": "Brand new set"}))
register(RouteCase("social_sets.rename", "POST", set_url("rename"), admins_only(303),
                   data={"name": "Renamed set"}))
register(RouteCase("social_sets.delete", "POST", set_url("delete"), admins_only(303)))
