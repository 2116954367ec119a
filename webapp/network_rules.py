"""What each network takes in a post, checked as the person writes (static/js/composer.js, from the
rules `for_composer` hands it) and again when a post is scheduled (`posts._check_draft`, with `problems`).

Each network's rules follow its documentation:
- Bluesky: the app.bsky.feed.post lexicon (text of up to 300 graphemes) and app.bsky.embed.images (up
  to 4 images of up to 1,000,000 bytes each). Roster sends Bluesky no video yet.
- Mastodon: the instance's own limits, as its GET /api/v2/instance (Mastodon 4) configuration gives
  them; without them Mastodon's defaults: 500 characters, 4 attachments, 16 MB images, 99 MB videos,
  links counted as 23 characters. Mastodon counts graphemes, the content warning together with the
  text, and a mention by its local part; a video goes out alone, never beside other attachments.
- Instagram: the Graph API's content publishing (IG User Media, v21): 1 to 10 images or videos
  (a carousel from 2), JPEG images of up to 8 MB between 4:5 and 1.91:1, videos as Reels of up to 1 GB.
- Facebook: the Graph API's Page Photos: photos of up to 4 MB; Roster publishes up to 10 photos and no
  video yet.
- LinkedIn: the Images API (versioned, 2024): JPG, GIF or PNG images of up to 36,152,320 pixels (it
  names no byte size); Roster publishes up to 20 images and no video yet.
- The others keep the caption limits Roster always had, and up to 10 attachments.

The length of a video is not checked: the media library does not know how long a video runs.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import regex

from .mastodon import instance_limits
from .models import MediaItem, Network, SocialProfile

MB = 1024 * 1024
GB = 1024 * MB

# How a network counts the length of a post's text.
CHARACTERS = "characters"  # Unicode code points
GRAPHEMES = "graphemes"  # what a reader sees as one character: an emoji with its skin tone, a flag, é
MASTODON_COUNT = "mastodon"  # graphemes, after links and mentions are rewritten as Mastodon counts them

# The most attachments the composer takes at all; each network has its own lower limit in its rules.
ATTACHMENT_LIMIT = 20
LEGACY_ATTACHMENTS = 10  # what every network took before each had rules of its own

# Mastodon's counting, in patterns Python's `regex` and the browser's RegExp (flags "giu") read alike:
# a link starts at http(s):// not glued to a word, @, $ or #; it cannot end in most punctuation; a
# mention is @name or @name@server, counted as @name.
LINK = r'(?<![A-Za-z0-9@＠$#＃])https?://[^\s<>"]+'
LINK_END = r"[\p{L}\p{N}/=_#+&)-]"
MENTION = r"(?<![=/\p{L}\p{N}_])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\p{L}\p{N}_]+(?:[.-]+[\p{L}\p{N}_]+)*)?"
_LINK = regex.compile(LINK, regex.IGNORECASE)
_LINK_END = regex.compile(LINK_END)
_MENTION = regex.compile(MENTION, regex.IGNORECASE)
_GRAPHEME = regex.compile(r"\X")

# Per-network choices a post may carry (Post.options), and the networks each applies to.
CONTENT_WARNING_MAX = 500
VISIBILITIES = {"public": "Public", "unlisted": "Unlisted", "private": "Followers only",
                "direct": "Mentioned people only"}
DEFAULT_VISIBILITY = "public"
# BCP-47 codes (each also Mastodon's ISO 639-1), the languages agencies post in most.
LANGUAGES = {
    "ar": "Arabic", "zh": "Chinese", "nl": "Dutch", "en": "English", "fr": "French", "de": "German",
    "hi": "Hindi", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "pl": "Polish",
    "pt": "Portuguese", "ru": "Russian", "es": "Spanish", "sv": "Swedish", "tr": "Turkish", "uk": "Ukrainian",
}
OPTION_NETWORKS: dict[str, frozenset[str]] = {
    "content_warning": frozenset({Network.MASTODON.value}),
    "visibility": frozenset({Network.MASTODON.value}),
    "language": frozenset({Network.BLUESKY.value, Network.MASTODON.value}),
}


def graphemes(text: str) -> int:
    """How many characters a reader sees: user-perceived characters (extended grapheme clusters)."""
    return len(_GRAPHEME.findall(text))


def _link_kept(link: str) -> str:
    """The link without the punctuation after it that ends the sentence rather than the link."""
    while link and (not _LINK_END.fullmatch(link[-1]) or (link[-1] == ")" and link.count("(") < link.count(")"))):
        link = link[:-1]
    return link


def mastodon_text(text: str, url_length: int = 23) -> str:
    """The text as Mastodon counts it: each link as `url_length` characters, each mention by its local part."""
    def link(match: regex.Match) -> str:
        whole = match.group()
        kept = _link_kept(whole)
        if kept.endswith("://") or "://" not in kept:
            return whole
        return "x" * url_length + whole[len(kept):]

    return _MENTION.sub(lambda match: "@" + match.group(1), _LINK.sub(link, text))


def _amount(limit: int) -> str:
    """A byte limit in words: "1 GB", "8 MB", "1,000,000 bytes"."""
    if limit % GB == 0:
        return f"{limit // GB} GB"
    if limit % MB == 0:
        return f"{limit // MB} MB"
    return f"{limit:,} bytes"


def _size(byte_size: int, limit: int) -> str:
    """A file's size in the unit its limit is said in, rounded up so a file over the limit never looks at it."""
    for unit, word in ((GB, "GB"), (MB, "MB")):
        if limit % unit == 0:
            return f"{-(-byte_size * 10 // unit) / 10:.1f} {word}"
    return f"{byte_size:,} bytes"


@dataclass(frozen=True)
class Problem:
    """A rule of a chosen network that the post breaks, in words naming the network and its limit."""

    message: str
    field: str  # the composer's input it is about: "caption" or "media"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Rules:
    """What one network (one Mastodon instance) takes in a post."""

    network: str
    name: str  # as messages name it: "Bluesky", "Mastodon (mastodon.social)"
    max_length: int
    counting: str = CHARACTERS
    text_noun: str = "posts"  # "Bluesky takes posts of up to …", "Instagram takes captions of up to …"
    max_attachments: int = LEGACY_ATTACHMENTS
    media_required: bool = False
    kinds: tuple[str, ...] = ("image", "video")
    image_types: tuple[str, ...] | None = None  # content types taken; None: any image
    image_types_named: str = ""  # those types in words: "JPEG"
    max_image_bytes: int | None = None
    max_video_bytes: int | None = None
    max_image_pixels: int | None = None
    # The narrowest and widest image taken, as width:height pairs of whole numbers, and in words.
    aspect: tuple[tuple[int, int], tuple[int, int]] | None = None
    aspect_named: tuple[str, str] = ("", "")
    video_alone: bool = False  # a video goes out alone, never beside other attachments
    url_length: int = 23  # how many characters a link counts as (Mastodon)

    # --- counting ----------------------------------------------------------------------------------

    def length(self, text: str, content_warning: str = "") -> int:
        """The text's length as this network counts it (Mastodon counts its content warning with it)."""
        if self.counting == GRAPHEMES:
            return graphemes(text)
        if self.counting == MASTODON_COUNT:
            return graphemes(content_warning + mastodon_text(text, self.url_length))
        return len(text)

    # --- messages (`for_composer` hands the browser the same sentences with placeholders) ----------

    @property
    def _attachments(self) -> str:
        return "images" if self.kinds == ("image",) else "attachments"

    def too_long(self, count: str, with_warning: bool = False) -> str:
        included = ", content warning included" if with_warning else ""
        return (f"{self.name} takes {self.text_noun} of up to {self.max_length:,} characters{included}; "
                f"this one has {count}.")

    def too_many(self, count: str) -> str:
        return f"{self.name} takes up to {self.max_attachments:,} {self._attachments}; this post has {count}."

    def needs_media(self) -> str:
        return f"{self.name} needs at least one {' or '.join(self.kinds)}."

    def video_not_taken(self, item: str) -> str:
        return f"{self.name} posts from Roster take images only for now; “{item}” is a video."

    def video_not_alone(self, count: str) -> str:
        return f"{self.name} takes a video only on its own; this post has {count} attachments."

    def type_not_taken(self, item: str) -> str:
        return f"{self.name} takes {self.image_types_named} images only; “{item}” is in another format."

    def image_too_large(self, item: str, size: str) -> str:
        return f"{self.name} takes images of up to {_amount(self.max_image_bytes or 0)}; “{item}” is {size}."

    def video_too_large(self, item: str, size: str) -> str:
        return f"{self.name} takes videos of up to {_amount(self.max_video_bytes or 0)}; “{item}” is {size}."

    def too_many_pixels(self, item: str, width: str, height: str) -> str:
        return (f"{self.name} takes images of up to {self.max_image_pixels or 0:,} pixels; "
                f"“{item}” is {width} × {height} pixels.")

    def out_of_shape(self, item: str, width: str, height: str) -> str:
        narrowest, widest = self.aspect_named
        return (f"{self.name} takes images with an aspect ratio from {narrowest} to {widest}; "
                f"“{item}” is {width} × {height} pixels.")

    # --- checks ------------------------------------------------------------------------------------

    def text_problems(self, caption: str, content_warning: str = "") -> list[Problem]:
        warning = content_warning if self.counting == MASTODON_COUNT else ""
        count = self.length(caption, warning)
        if count <= self.max_length:
            return []
        return [Problem(self.too_long(f"{count:,}", with_warning=bool(warning)), "caption")]

    def media_problems(self, media: Sequence[MediaItem]) -> list[Problem]:
        found = []
        if self.media_required and not media:
            found.append(self.needs_media())
        if len(media) > self.max_attachments:
            found.append(self.too_many(f"{len(media):,}"))
        if self.video_alone and len(media) > 1 and any(item.kind == "video" for item in media):
            found.append(self.video_not_alone(f"{len(media):,}"))
        for item in media:
            found.extend(self._item_problems(item))
        return [Problem(message, "media") for message in found]

    def _item_problems(self, item: MediaItem) -> list[str]:
        if item.kind not in self.kinds:
            return [self.video_not_taken(item.name)]
        if item.kind == "video":
            if self.max_video_bytes and item.byte_size > self.max_video_bytes:
                return [self.video_too_large(item.name, _size(item.byte_size, self.max_video_bytes))]
            return []
        found = []
        if self.image_types is not None and item.content_type not in self.image_types:
            found.append(self.type_not_taken(item.name))
        if self.max_image_bytes and item.byte_size > self.max_image_bytes:
            found.append(self.image_too_large(item.name, _size(item.byte_size, self.max_image_bytes)))
        width, height = item.width, item.height
        if width and height:
            if self.max_image_pixels and width * height > self.max_image_pixels:
                found.append(self.too_many_pixels(item.name, str(width), str(height)))
            if self.aspect:
                (low_w, low_h), (high_w, high_h) = self.aspect
                if width * low_h < height * low_w or width * high_h > height * high_w:
                    found.append(self.out_of_shape(item.name, str(width), str(height)))
        return found

    def for_composer(self) -> dict:
        """The rules and their sentences (with {placeholders}) for the composer's script."""
        return {
            "network": self.network, "name": self.name, "max": self.max_length, "counting": self.counting,
            "urlLength": self.url_length, "maxMedia": self.max_attachments, "needsMedia": self.media_required,
            "kinds": list(self.kinds), "types": list(self.image_types) if self.image_types is not None else None,
            "imageBytes": self.max_image_bytes, "videoBytes": self.max_video_bytes,
            "pixels": self.max_image_pixels, "aspect": [list(pair) for pair in self.aspect] if self.aspect else None,
            "videoAlone": self.video_alone,
            "say": {key: message for key, message in (
                ("long", self.too_long("{count}")),
                ("longWithWarning", self.too_long("{count}", with_warning=True)),
                ("many", self.too_many("{count}")),
                ("none", self.needs_media()),
                ("video", self.video_not_taken("{item}")),
                ("alone", self.video_not_alone("{count}") if self.video_alone else None),
                ("type", self.type_not_taken("{item}") if self.image_types is not None else None),
                ("imageBytes", self.image_too_large("{item}", "{size}") if self.max_image_bytes else None),
                ("videoBytes", self.video_too_large("{item}", "{size}") if self.max_video_bytes else None),
                ("pixels", self.too_many_pixels("{item}", "{width}", "{height}") if self.max_image_pixels else None),
                ("aspect", self.out_of_shape("{item}", "{width}", "{height}") if self.aspect else None),
            ) if message is not None},
        }


# The caption limits every network had before it had rules of its own; Bluesky and Mastodon's follow.
CAPTIONS = "captions"
RULES: dict[str, Rules] = {rules.network: rules for rules in (
    Rules(Network.INSTAGRAM.value, "Instagram", 2200, text_noun=CAPTIONS, media_required=True,
          image_types=("image/jpeg",), image_types_named="JPEG", max_image_bytes=8 * MB,
          max_video_bytes=1 * GB, aspect=((4, 5), (191, 100)), aspect_named=("4:5", "1.91:1")),
    Rules(Network.FACEBOOK.value, "Facebook", 63206, kinds=("image",), max_image_bytes=4 * MB),
    Rules(Network.TIKTOK.value, "TikTok", 2200, text_noun=CAPTIONS),
    Rules(Network.LINKEDIN.value, "LinkedIn", 3000, max_attachments=20, kinds=("image",),
          image_types=("image/jpeg", "image/gif", "image/png"), image_types_named="JPEG, GIF or PNG",
          max_image_pixels=36_152_320),
    Rules(Network.X.value, "X", 280),
    Rules(Network.PINTEREST.value, "Pinterest", 500, text_noun="descriptions"),
    Rules(Network.YOUTUBE.value, "YouTube", 5000, text_noun="descriptions"),
    Rules(Network.THREADS.value, "Threads", 500),
    Rules(Network.GOOGLE_BUSINESS.value, "Google Business Profile", 1500),
    Rules(Network.BLUESKY.value, "Bluesky", 300, counting=GRAPHEMES, max_attachments=4, kinds=("image",),
          max_image_bytes=1_000_000),
    Rules(Network.MASTODON.value, "Mastodon", 500, counting=MASTODON_COUNT, max_attachments=4,
          max_image_bytes=16 * MB, max_video_bytes=99 * MB, video_alone=True),
)}
# The longest text each network takes (a Mastodon instance may take more: see `rules_for`).
CAPTION_LIMITS: dict[str, int] = {network: rules.max_length for network, rules in RULES.items()}


# --- Mastodon instances ----------------------------------------------------------------------------


def _server(url: str | None) -> str:
    return (url or "").strip().rstrip("/").lower()


def _setting(limits: Mapping, group: str, key: str) -> object:
    """One of an instance's limits, whether kept as /api/v2/instance's configuration or flattened."""
    for source in (limits, limits.get("configuration") or {}):
        if not isinstance(source, Mapping):
            continue
        nested = source.get(group)
        if isinstance(nested, Mapping) and key in nested:
            return nested[key]
        if key in source:
            return source[key]
    return None


def mastodon_rules(service_url: str | None, limits: Mapping | None) -> Rules:
    """The rules of one Mastodon instance: its own limits where it told them, Mastodon's defaults otherwise."""
    default = RULES[Network.MASTODON.value]
    limits = limits or {}

    def number(group: str, key: str, fallback: int | None) -> int | None:
        value = _setting(limits, group, key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else fallback

    host = urlsplit(_server(service_url)).hostname
    return Rules(
        default.network, f"Mastodon ({host})" if host else default.name,
        number("statuses", "max_characters", default.max_length), counting=MASTODON_COUNT,
        max_attachments=number("statuses", "max_media_attachments", default.max_attachments),
        max_image_bytes=number("media_attachments", "image_size_limit", default.max_image_bytes),
        max_video_bytes=number("media_attachments", "video_size_limit", default.max_video_bytes),
        url_length=number("statuses", "characters_reserved_per_url", default.url_length),
        video_alone=True,
    )


def _instance_limits(profiles: Sequence[SocialProfile]) -> dict[int, Mapping]:
    """Each Mastodon profile's instance limits, as Roster last read them (read again once a day old):
    asked once per instance, however many of its profiles there are."""
    by_server: dict[str, Mapping] = {}
    for profile in profiles:
        server = _server(profile.service_url)
        if server not in by_server:
            by_server[server] = instance_limits(profile)
    return {profile.id: by_server[_server(profile.service_url)] for profile in profiles}


# --- a post's profiles -----------------------------------------------------------------------------


def rules_for(profiles: Sequence[SocialProfile]) -> dict[int, Rules]:
    """Each profile's rules, by profile id: its network's, or for Mastodon its instance's."""
    mastodon = [profile for profile in profiles if profile.network == Network.MASTODON.value]
    instances = _instance_limits(mastodon)
    return {profile.id: mastodon_rules(profile.service_url, instances.get(profile.id))
            if profile.network == Network.MASTODON.value else RULES[profile.network] for profile in profiles}


def broken(rules: Iterable[Rules], caption: str, media: Sequence[MediaItem],
           options: Mapping | None = None) -> list[Problem]:
    """Every one of these rules that the post breaks: the text's first, strictest limit first, then the
    media's. Rules two profiles share (two Instagram profiles) speak once."""
    chosen = list(dict.fromkeys(rules))
    content_warning = str((options or {}).get("content_warning") or "")
    found = [problem for one in sorted(chosen, key=lambda one: one.max_length)
             for problem in one.text_problems(caption, content_warning)]
    found += [problem for one in chosen for problem in one.media_problems(media)]
    return list(dict.fromkeys(found))


def problems(caption: str, media: Sequence[MediaItem], profiles: Sequence[SocialProfile],
             options: Mapping | None = None) -> list[Problem]:
    """Every rule of the profiles' networks that the post breaks (see `broken`)."""
    return broken(rules_for(profiles).values(), caption, media, options)


def for_composer(by_profile: Mapping[int, Rules]) -> dict:
    """What the composer's script checks: each profile's rules (by name), and Mastodon's counting patterns."""
    return {
        "profiles": {str(profile_id): rules.name for profile_id, rules in by_profile.items()},
        "rules": {rules.name: rules.for_composer() for rules in dict.fromkeys(by_profile.values())},
        "patterns": {"link": LINK, "linkEnd": LINK_END, "mention": MENTION},
    }


# --- options ---------------------------------------------------------------------------------------


def options_offered(networks: Iterable[str]) -> dict[str, list[str]]:
    """The per-network options that apply to any of these networks, each with the names of those it applies to."""
    networks = set(networks)
    return {option: [Network(network).label for network in sorted(takers & networks)]
            for option, takers in OPTION_NETWORKS.items() if takers & networks}


def options_for(network: str, chosen: Mapping) -> dict | None:
    """The chosen options that apply to a post on `network` (None when none do): a Mastodon post keeps its
    visibility (public unless chosen), a content warning and language only when they were given."""
    kept: dict[str, str] = {}
    for option, takers in OPTION_NETWORKS.items():
        if network not in takers:
            continue
        value = str(chosen.get(option) or "").strip()
        if option == "visibility":
            value = value or DEFAULT_VISIBILITY
        if value:
            kept[option] = value
    return kept or None


def options_in_words(options: Mapping | None) -> list[tuple[str, str]]:
    """A post's options as (label, value) pairs for its page."""
    options = options or {}
    shown = []
    if options.get("visibility"):
        shown.append(("Visibility", VISIBILITIES.get(options["visibility"], options["visibility"])))
    if options.get("content_warning"):
        shown.append(("Content warning", options["content_warning"]))
    if options.get("language"):
        shown.append(("Language", LANGUAGES.get(options["language"], options["language"])))
    return shown
