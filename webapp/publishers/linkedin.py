"""LinkedIn: which author a connected profile posts as, and publishing its posts.

Follows LinkedIn's Marketing API documentation for the versioned REST API (Community Management),
every call naming `LinkedIn-Version: LINKEDIN_API_VERSION` (202607 unless set) and
`X-Restli-Protocol-Version: 2.0.0`: the Posts API (POST /rest/posts, answered 201 with the post's
URN in x-restli-id), the Images API (POST /rest/images?action=initializeUpload, then PUT the bytes to
the uploadUrl it gives), the MultiImage API (2 to 20 images in content.multiImage), Organization Access
Control by Role (GET /rest/organizationAcls?q=roleAssignee), Organization Lookup (BATCH_GET
/rest/organizations?ids=List(...)), the "little" text format of a post's commentary, and Sign In with
LinkedIn using OpenID Connect (the userinfo `sub` is the member's id).

A LinkedIn profile's external_id is the author its posts go out as: urn:li:person:<sub> for the member
who signed in, urn:li:organization:<id> for a Page they administer. A member who administers Pages is
asked which after signing in; until they answer, the slot keeps their tokens (encrypted, as always)
with no author and shows "Reconnect needed", so nothing is sent in anyone's name by accident, and
signing in again from the slot asks again.
"""
from __future__ import annotations

import io
import logging
import re
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from flask import current_app, url_for

from .. import audit
from .. import profiles as connecting
from ..extensions import db
from ..models import MediaItem, Network, Post, SocialProfile, SocialSet, User
from . import (
    Adapter,
    NetworkError,
    Published,
    ReconnectNeeded,
    Refused,
    RetryLater,
    attachments,
    call,
    media_bytes,
    register,
)

log = logging.getLogger(__name__)

LABEL = "LinkedIn"
RESTLI_PROTOCOL = "2.0.0"
PERSON = "urn:li:person:"
ORGANIZATION = "urn:li:organization:"
ORGANIZATION_URN = re.compile(r"urn:li:organization:(\d+)")
PAGE_ADMIN_SCOPE = "rw_organization_admin"  # what listing the Pages a member administers needs

MOST_IMAGES = 20  # a multi-image post takes 2 to 20 images
MOST_PIXELS = 36_152_320  # the Images API takes images with fewer pixels than this
UPLOADABLE = {"image/jpeg", "image/png", "image/gif"}  # the Images API's formats; others go as PNG

ACL_PAGE = 50  # access-control entries asked for at once
ACL_PAGES = 10  # pages of them read at most (500 Pages)
LOOKUP_BATCH = 50  # Pages looked up in one BATCH_GET
MOST_OFFERED = 100  # Pages offered in the picker (their ids ride in the session cookie)

AUTHORS_KEY = "linkedin_authors"  # pending author choices in the session, like the transfer offers
MYSELF = "me"  # the picker's answer for "post as yourself"

# Characters LinkedIn's "little" text format reserves; in a post's commentary each must be escaped with
# a backslash to read as itself (unescaped, LinkedIn may cut the post short at the first one).
RESERVED = frozenset("\\|{}@[]()<>#*_~")
# In a web address LinkedIn links, these are left as written: underscores, fragments and @ are common in
# addresses and harmless there; the rest would still cut the post short, so they are escaped.
KEPT_IN_ADDRESSES = frozenset("_#@")
ADDRESS = re.compile(r"https?://\S+", re.IGNORECASE)
HASHTAG_START = re.compile(r"#(?=\w)")


# --- LinkedIn's REST API ----------------------------------------------------------------------------


def api_url(path: str) -> str:
    """`path` on LinkedIn's REST API (LINKEDIN_API_URL)."""
    return f"{current_app.config['LINKEDIN_API_URL'].rstrip('/')}{path}"


def api_headers(token: str) -> dict[str, str]:
    """What every versioned REST call carries: the member's token, the API version and Rest.li 2.0."""
    return {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": str(current_app.config["LINKEDIN_API_VERSION"]),
        "X-Restli-Protocol-Version": RESTLI_PROTOCOL,
    }


def linkedin_says(response: requests.Response) -> str | None:
    """LinkedIn's own words in an error answer ({"message", "serviceErrorCode", "status"}, and for a
    refused field its input errors), or what a sunset API version means for Roster."""
    if response.status_code == 426:
        version = current_app.config["LINKEDIN_API_VERSION"]
        return (f"it no longer serves API version {version}; set LINKEDIN_API_VERSION to a current one "
                "(YYYYMM)")
    answer = response.json()
    if not isinstance(answer, dict):
        return None
    said = str(answer.get("message") or "").strip()
    inputs = (answer.get("errorDetails") or {}).get("inputErrors") if isinstance(answer.get("errorDetails"), dict) \
        else None
    for error in inputs or []:
        description = str(error.get("description") or "").strip() if isinstance(error, dict) else ""
        if description and description not in said:
            said = f"{said}: {description}" if said else description
    code = answer.get("serviceErrorCode")
    if said and code not in (None, ""):
        said = f"{said} (LinkedIn error {code})"
    return said or None


def _get(token: str, path: str) -> dict:
    response = call(LABEL, "GET", api_url(path), headers=api_headers(token), reason=linkedin_says)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise RetryLater(f"{LABEL} answered in a way Roster did not understand; try again.")
    return answer


@dataclass(frozen=True)
class Page:
    """A LinkedIn Page (an organization) a member may post as."""

    id: int
    name: str
    vanity_name: str | None = None

    @property
    def urn(self) -> str:
        return f"{ORGANIZATION}{self.id}"

    @property
    def handle(self) -> str:
        """The Page's address name (linkedin.com/company/<vanity name>), else its name."""
        return self.vanity_name or self.name


def administered_page_ids(token: str) -> list[int]:
    """The ids of the Pages whose approved administrator the member is, in LinkedIn's order."""
    ids: list[int] = []
    for page in range(ACL_PAGES):
        answer = _get(token, "/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED"
                             f"&start={page * ACL_PAGE}&count={ACL_PAGE}")
        elements = answer.get("elements") or []
        for element in elements:
            found = ORGANIZATION_URN.fullmatch(str(element.get("organization") or "")) \
                if isinstance(element, dict) else None
            if found and int(found.group(1)) not in ids:
                ids.append(int(found.group(1)))
        if len(elements) < ACL_PAGE:
            break
    return ids


def pages_named(token: str, ids: list[int]) -> list[Page]:
    """The Pages `ids` with their names, in the order given; a Page LinkedIn no longer shows is left out."""
    pages: list[Page] = []
    for start in range(0, len(ids), LOOKUP_BATCH):
        batch = ids[start:start + LOOKUP_BATCH]
        # Rest.li 2.0 writes a batch of keys as List(...), its parentheses and commas unencoded.
        answer = _get(token, f"/rest/organizations?ids=List({','.join(str(page_id) for page_id in batch)})")
        results = answer.get("results") or {}
        for page_id in batch:
            entry = results.get(str(page_id))
            if not isinstance(entry, dict):
                continue
            name = str(entry.get("localizedName") or "").strip() or f"Page {page_id}"
            vanity = str(entry.get("vanityName") or "").strip() or None
            pages.append(Page(page_id, name[:120], vanity[:120] if vanity else None))
    return pages


# --- the author a profile posts as ----------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorChoice:
    """A member who administers Pages, asked who the slot's profile posts as: kept in their session."""

    choice_id: str
    user_id: int
    social_profile_id: int
    social_set_id: int
    access_group_id: int
    person: str  # the member's own author URN
    page_ids: tuple[int, ...]
    origin: str
    expires_at: float


def _problem(error: NetworkError, then: str = "Start again from the slot.") -> connecting.ProfileProblem:
    """LinkedIn could not say which Pages the member administers: what they can do about it (`then`)."""
    log.warning("asking LinkedIn about a member's Pages failed: %s", error.message)
    return connecting.ProfileProblem(f"{LABEL} did not answer",
                                     f"{LABEL} could not tell Roster about your Pages just now. {then}", status=502)


def _pages_to_offer(token: dict) -> list[int]:
    """The Pages the signed-in member administers, or none when the app may not list them (it lacks
    LinkedIn's Community Management API, or the member did not grant it)."""
    granted = token.get("scope")
    if isinstance(granted, str) and PAGE_ADMIN_SCOPE not in re.split(r"[\s,]+", granted):
        return []
    try:
        return administered_page_ids(token["access_token"])
    except Refused as error:
        log.info("listing a LinkedIn member's Pages was refused: %s", error.message)
        return []
    except NetworkError as error:
        raise _problem(error) from None


def after_sign_in(
    store: MutableMapping, pending: connecting.PendingConnection, social_set: SocialSet, token: dict,
    found: dict, user: User,
) -> connecting.NextStep | None:
    """The LinkedIn step of `profiles.finish_connection`, right after the member signed in.

    It writes the member's author URN into `found` and returns None to let the ordinary path store
    the profile or sign it in again (for a Page's profile, once the member is shown to administer
    it). A member who administers Pages, or a profile still waiting for its author, goes on to the
    author picker (NextStep); the caller commits.
    """
    person = found["external_id"]
    found["external_id"] = person if person.startswith(PERSON) else f"{PERSON}{person}"
    holder = connecting.slot_holder(social_set, Network.LINKEDIN)
    if pending.reconnect_profile_id is not None:
        if holder is None or holder.id != pending.reconnect_profile_id:
            return None  # the ordinary path says the profile went away
        page = ORGANIZATION_URN.fullmatch(holder.external_id or "")
        if page:
            if int(page.group(1)) not in _pages_to_offer(token):
                raise connecting.ProfileProblem(
                    "Not an administrator of this Page",
                    f"You signed in to {LABEL} as {found['handle']}, who does not administer the Page "
                    f"@{holder.handle}. Sign in as one of its administrators to reconnect it. Nothing was changed.",
                    status=409)
            found.update(external_id=holder.external_id, handle=holder.handle)
            return None
        if holder.external_id:
            return None  # the member's own profile: the ordinary path checks it is them
        _hold_tokens(holder, token, found)
        return _ask(store, pending, holder, found["external_id"], _pages_to_offer(token), user)
    page_ids = _pages_to_offer(token)
    if not page_ids:
        return None
    if holder is not None:
        raise connecting.slot_taken(Network.LINKEDIN, holder)
    waiting = SocialProfile(social_set_id=social_set.id, access_group_id=social_set.access_group_id,
                            network=Network.LINKEDIN.value, connected_by_id=user.id)
    _hold_tokens(waiting, token, found)
    db.session.add(waiting)
    db.session.flush()
    return _ask(store, pending, waiting, found["external_id"], page_ids, user)


def _hold_tokens(profile: SocialProfile, token: dict, found: dict) -> None:
    """Keep the member's tokens on a profile that has no author yet (so it posts nothing)."""
    connecting.store_tokens(profile, token)
    profile.needs_reconnect = True
    profile.external_id = None
    profile.handle = found["handle"].lstrip("@")[:120]
    profile.display_name = (found["display_name"] or "")[:120]
    avatar_url = found["avatar_url"]
    profile.avatar_url = avatar_url if avatar_url and len(avatar_url) <= 500 and avatar_url.startswith("https://") \
        else None


def _ask(store: MutableMapping, pending: connecting.PendingConnection, profile: SocialProfile, person: str,
         page_ids: list[int], user: User) -> connecting.NextStep:
    choice_id = secrets.token_urlsafe(16)
    choices = connecting.pending_entries(store, AUTHORS_KEY)
    choices[choice_id] = {
        "user_id": user.id, "social_profile_id": profile.id, "social_set_id": profile.social_set_id,
        "access_group_id": profile.access_group_id, "person": person, "page_ids": page_ids[:MOST_OFFERED],
        "origin": pending.origin, "expires_at": time.time() + connecting.FLOW_LIFETIME.total_seconds(),
    }
    connecting.keep_entries(store, AUTHORS_KEY, choices)
    return connecting.NextStep(url_for("linkedin.author", set_id=profile.social_set_id, choice=choice_id))


def no_longer_valid() -> connecting.ProfileProblem:
    return connecting.ProfileProblem(
        "Choice expired", "This choice of who posts is no longer valid. Start again from the slot "
        "(its Reconnect button signs in again).")


def author_choice(store: MutableMapping, choice_id: str | None, user: User, social_set: SocialSet) -> AuthorChoice:
    """The pending choice `choice_id` of `user` for `social_set`, left in the session."""
    entry = connecting.pending_entries(store, AUTHORS_KEY).get(choice_id) if choice_id else None
    if entry is None or entry["user_id"] != user.id or entry["social_set_id"] != social_set.id:
        raise no_longer_valid()
    return AuthorChoice(choice_id=choice_id, user_id=entry["user_id"], social_profile_id=entry["social_profile_id"],
                        social_set_id=entry["social_set_id"], access_group_id=entry["access_group_id"],
                        person=entry["person"], page_ids=tuple(entry["page_ids"]), origin=entry["origin"],
                        expires_at=entry["expires_at"])


def waiting_profile(choice: AuthorChoice, social_set: SocialSet) -> SocialProfile:
    """The slot's profile the choice is for, still without an author."""
    profile = connecting.slot_holder(social_set, Network.LINKEDIN)
    if profile is None or profile.id != choice.social_profile_id or profile.external_id is not None:
        raise no_longer_valid()
    return profile


def offered_pages(choice: AuthorChoice, profile: SocialProfile) -> list[Page]:
    """The Pages the picker offers, named as LinkedIn names them now."""
    try:
        return pages_named(profile.access_token, list(choice.page_ids))
    except NetworkError as error:
        raise _problem(error, "Reload this page in a moment.") from None


def choose_author(
    store: MutableMapping, choice: AuthorChoice, answer: str, social_set: SocialSet, user: User
) -> connecting.Connected | connecting.TransferOffer:
    """Make the waiting profile post as the member (`answer` "me") or as the Page whose id is `answer`.

    The choice is used once. When the account already has that author in another slot, the waiting
    profile gives way and a transfer is offered instead, as for any profile connected twice. The
    caller has checked `profiles.connect` on the set and commits.
    """
    profile = waiting_profile(choice, social_set)
    if answer == MYSELF:
        author, handle, display_name, avatar_url = choice.person, profile.handle, profile.display_name, profile.avatar_url
    elif answer.isdigit() and int(answer) in choice.page_ids:
        try:
            [page] = pages_named(profile.access_token, [int(answer)]) or [None]
        except NetworkError as error:
            raise _problem(error, "Go back and choose again in a moment.") from None
        if page is None:
            raise connecting.ProfileProblem("Page not found", f"{LABEL} no longer shows that Page to you. "
                                            "Choose another, or start again from the slot.", status=422)
        author, handle, display_name, avatar_url = page.urn, page.handle, page.name, None
    else:
        raise connecting.ProfileProblem("Choose who posts", "Choose who posts: yourself or one of your Pages.", 422)
    choices = connecting.pending_entries(store, AUTHORS_KEY)
    taken = choices.pop(choice.choice_id, None)
    store[AUTHORS_KEY] = choices
    if taken is None:  # the same choice sent twice
        raise no_longer_valid()
    account_id = social_set.access_group.account_id
    existing = connecting.already_connected(account_id, Network.LINKEDIN.value, author)
    if existing is not None:
        db.session.delete(profile)
        db.session.flush()
        pending = connecting.PendingConnection(
            state=choice.choice_id, verifier="", user_id=user.id, access_group_id=social_set.access_group_id,
            social_set_id=social_set.id, network=Network.LINKEDIN.value, expires_at=choice.expires_at,
            origin=choice.origin)
        return connecting.offer_transfer(store, existing, social_set, pending, user)
    profile.external_id = author
    profile.handle, profile.display_name, profile.avatar_url = handle[:120], display_name[:120], avatar_url
    profile.needs_reconnect = False
    from ..publishing import retry_after_reconnect

    retry_after_reconnect(profile)
    # The profile had no author until now: this is when it is connected, however many sign-ins it took.
    audit.record(account_id, user.id, "profile.connected", "social_profile", profile.id, after={
        "network": profile.network, "handle": profile.handle, "social_set_id": social_set.id,
        "access_group_id": social_set.access_group_id, "author": "page" if author.startswith(ORGANIZATION) else "member",
    }, group_id=social_set.access_group_id)
    return connecting.Connected(profile)


# --- publishing -----------------------------------------------------------------------------------------


def little_text(text: str) -> str:
    """`text` as LinkedIn's "little" text format reads it as written: each reserved character escaped
    with a backslash, except a # that starts a hashtag (it stays a hashtag) and, inside web
    addresses, the underscores, fragments and @ that addresses are made of."""
    escaped: list[str] = []
    position = 0
    for address in ADDRESS.finditer(text):
        escaped.append(_escape(text[position:address.start()], keep=frozenset()))
        escaped.append(_escape(address.group(), keep=KEPT_IN_ADDRESSES))
        position = address.end()
    escaped.append(_escape(text[position:], keep=frozenset()))
    return "".join(escaped)


def _escape(text: str, keep: frozenset[str]) -> str:
    hashtags = {found.start() for found in HASHTAG_START.finditer(text)}
    return "".join(
        f"\\{character}" if character in RESERVED and character not in keep and index not in hashtags else character
        for index, character in enumerate(text)
    )


def post_body(author: str, caption: str, images: list[dict[str, str]]) -> dict:
    """A Posts API create request: public, in the main feed, published now, reshares allowed."""
    body: dict = {
        "author": author,
        "commentary": little_text(caption or ""),
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    if len(images) == 1:
        body["content"] = {"media": images[0]}
    elif images:
        body["content"] = {"multiImage": {"images": images}}
    return body


def post_url(urn: str) -> str:
    """Where anyone can see the post on LinkedIn."""
    return f"https://www.linkedin.com/feed/update/{urn}"


def _uploadable(item: MediaItem) -> bytes:
    """The image's bytes in a format the Images API takes (JPEG, PNG, GIF; anything else as PNG)."""
    data = media_bytes(item)
    if item.content_type in UPLOADABLE:
        return data
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        converted = io.BytesIO()
        image.save(converted, "PNG")
    return converted.getvalue()


def _upload_host_trusted(upload_url: str) -> bool:
    """The member's token goes only to LinkedIn: its own hosts, or the API host Roster was told of."""
    host = (urlsplit(upload_url).hostname or "").lower()
    api_host = (urlsplit(current_app.config["LINKEDIN_API_URL"]).hostname or "").lower()
    return host == api_host or host == "linkedin.com" or host.endswith(".linkedin.com")


class LinkedInAdapter:
    """Posts text and images as the profile's author through LinkedIn's Posts and Images APIs."""

    def publish(self, post: Post, profile: SocialProfile) -> Published:
        token = connecting.access_token_for(profile)
        # A refreshed (perhaps rotated) token must outlive whatever happens to this post.
        db.session.commit()
        if token is None:
            raise ReconnectNeeded(f"{LABEL} no longer accepts this profile's sign-in: reconnect it.")
        author = profile.external_id or ""
        if not author.startswith((PERSON, ORGANIZATION)):
            raise ReconnectNeeded(f"This {LABEL} profile does not know who posts yet: reconnect it and choose "
                                  "yourself or a Page.")
        items = attachments(post)
        if any(item.kind != "image" for item in items):
            raise Refused(f"Roster does not send videos to {LABEL} yet: remove the video, or post it on "
                          f"{LABEL} itself.")
        if len(items) > MOST_IMAGES:
            raise Refused(f"{LABEL} takes at most {MOST_IMAGES} images in a post; this one has {len(items)}.")
        for item in items:
            if item.width and item.height and item.width * item.height >= MOST_PIXELS:
                raise Refused(f"{LABEL} takes images of fewer than {MOST_PIXELS:,} pixels; “{item.name}” has "
                              f"{item.width * item.height:,}.")
        images = []
        for item in items:
            image = {"id": self._upload(token, author, item)}
            if (item.alt_text or "").strip():
                image["altText"] = item.alt_text.strip()
            images.append(image)
        response = call(LABEL, "POST", api_url("/rest/posts"), json=post_body(author, post.caption, images),
                        headers=api_headers(token), reason=linkedin_says)
        urn = response.headers.get("x-restli-id", "").strip()
        if not urn:
            # LinkedIn has the post: sending it again would post it twice.
            raise Refused(f"{LABEL} took the post but did not say which it is; look for it on {LABEL} before "
                          "sending it again.")
        return Published(urn, post_url(urn))

    def _upload(self, token: str, author: str, item: MediaItem) -> str:
        """Upload one image for `author`: ask LinkedIn where, then send the bytes. Returns its image URN."""
        started = call(LABEL, "POST", api_url("/rest/images?action=initializeUpload"),
                       json={"initializeUploadRequest": {"owner": author}}, headers=api_headers(token),
                       reason=linkedin_says)
        try:
            value = started.json().get("value") or {}
        except (ValueError, AttributeError):
            value = {}
        upload_url, image = value.get("uploadUrl"), value.get("image")
        if not upload_url or not image:
            raise RetryLater(f"{LABEL} did not say where to upload an image; Roster will try again.")
        if not _upload_host_trusted(upload_url):
            raise Refused(f"{LABEL} asked for an image at an address outside {LABEL}; Roster did not send it.")
        call(LABEL, "PUT", upload_url, data=_uploadable(item), headers={"Authorization": f"Bearer {token}"},
             reason=linkedin_says)
        return image


@register(Network.LINKEDIN)
def linkedin_adapter() -> Adapter:
    return LinkedInAdapter()
