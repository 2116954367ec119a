"""`python -m bench.upload_memory`: how far one upload of a very large image raises a worker's memory.

Each image (noisy, so a PNG is as big as a photograph's) is made once in a temporary folder, then handed
to `add_media_item`, what the upload view calls, in a fresh Python process. That process reports its
resident memory just before the upload and its peak (VmHWM) after it; the difference is what one
upload costs a worker. The exit status is non-zero when any image raises it by more than the budget.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from . import report

BUDGET_MB = 150
DEFAULT_SIDE = 7000  # 7000 × 7000: 49 million pixels, just under the default limit of 50
FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}
DEFAULT_FORMATS = ("png", "jpeg")
NOISE_ROWS = 1024  # one band of noise, repeated further apart than zlib can look back
MB = 1024 * 1024


@dataclass(frozen=True)
class UploadMemory:
    """What one upload of one image did to a fresh worker process."""

    kind: str
    width: int
    height: int
    file_bytes: int
    rss_before: int  # bytes resident just before the upload
    peak_before: int  # the peak as the upload starts: the resident memory, once the peak is reset
    peak_after: int  # the process's peak after it
    seconds: float
    stored: bool  # the upload made a library item with a thumbnail
    refused: str | None = None  # the upload's message, if it was refused

    @property
    def increase(self) -> int:
        """How far the upload raised the process's peak resident memory above what it held just before.

        Counted from the resident memory, not the earlier peak, so a start-up peak cannot hide any of it.
        """
        return max(0, self.peak_after - self.rss_before)


def make_image(kind: str, side: int, folder: Path) -> Path:
    """A `side` × `side` image of gradients and noise, saved in `folder` as `kind` (png, jpeg, ...)."""
    noise = Image.effect_noise((side, min(side, NOISE_ROWS)), 12)
    bands = []
    for gradient in (Image.linear_gradient("L"), Image.linear_gradient("L").rotate(90), Image.radial_gradient("L")):
        band = gradient.resize((side, side))
        for top in range(0, side, NOISE_ROWS):
            strip = (0, top, side, min(side, top + NOISE_ROWS))
            band.paste(Image.blend(band.crop(strip), noise.crop((0, 0, side, strip[3] - top)), 0.35), strip)
        bands.append(band)
    image = Image.merge("RGB", bands)
    path = folder / f"large-{side}.{kind}"
    options = {"png": {"compress_level": 1}, "jpeg": {"quality": 90}, "webp": {"quality": 80}}.get(kind, {})
    image.save(path, FORMATS[kind], **options)
    return path


def measure(path: Path) -> UploadMemory:
    """Upload the image at `path` in a fresh Python process and return what it reported."""
    finished = subprocess.run(
        [sys.executable, "-m", "bench.upload_memory", "--upload", str(path)],
        capture_output=True, text=True, check=False, cwd=Path(__file__).resolve().parent.parent,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"measuring {path.name} failed:\n{finished.stderr}")
    return UploadMemory(**json.loads(finished.stdout.strip().splitlines()[-1]))


def _status_bytes(field: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _resident_bytes() -> int:
    """The process's resident memory now."""
    return _status_bytes("VmRSS")


def _peak_bytes() -> int:
    """The process's peak resident memory so far.

    VmHWM rather than ru_maxrss: after fork and exec, ru_maxrss still counts the parent's memory at
    the fork, so a child started by a big parent would report the parent's size.
    """
    return _status_bytes("VmHWM")


def _reset_peak() -> None:
    """Start the peak afresh from the memory resident now, so start-up's own peak cannot hide the upload's.

    Linux allows it for one's own process; where it does not, the increase is counted from the resident
    memory all the same, which can only overstate it.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def upload_in_this_process(path: Path) -> UploadMemory:
    """Set up an app with one group, then add the image at `path` to its library as the upload view does."""
    from werkzeug.datastructures import FileStorage

    from webapp import media as rules
    from webapp.extensions import db
    from webapp.models import AccessGroup, Account, User
    from webapp.plans import install_reference_plans
    from webapp.storage import media_storage

    from .database import bench_app

    with tempfile.TemporaryDirectory(prefix="roster-upload-") as folder:
        workdir = Path(folder)
        app = bench_app(f"sqlite:///{workdir / 'upload.db'}", workdir)
        with app.app_context():
            db.create_all()
            install_reference_plans()
            uploader = User(email="uploader@example.test", name="Uploader", password_hash="-")
            account = Account(name="Agency")
            db.session.add_all([uploader, account])
            db.session.flush()
            group = AccessGroup(account_id=account.id, name="Library", is_default=True)
            db.session.add(group)
            db.session.commit()
            storage, limits = media_storage(), rules.UploadLimits.from_config()
            with path.open("rb") as stream:
                upload = FileStorage(stream, filename=path.name)
                _reset_peak()
                rss_before, peak_before = _resident_bytes(), _peak_bytes()
                started = time.perf_counter()
                refused = None
                try:
                    item = rules.add_media_item(group, upload, uploader, storage, limits)
                    db.session.commit()
                except rules.MediaError as problem:
                    db.session.rollback()
                    item, refused = None, str(problem)
                seconds = time.perf_counter() - started
                peak_after = _peak_bytes()
            return UploadMemory(
                kind=path.suffix.lstrip("."), width=item.width if item else 0, height=item.height if item else 0,
                file_bytes=path.stat().st_size, rss_before=rss_before, peak_before=peak_before,
                peak_after=peak_after, seconds=seconds, stored=bool(item and item.thumbnail_key), refused=refused,
            )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.upload_memory", description=__doc__)
    parser.add_argument("--side", type=int, default=DEFAULT_SIDE,
                        help=f"width and height of each image in pixels ({DEFAULT_SIDE})")
    parser.add_argument("--formats", nargs="+", choices=list(FORMATS), default=list(DEFAULT_FORMATS),
                        help=f"image formats to upload ({' '.join(DEFAULT_FORMATS)})")
    parser.add_argument("--budget", type=int, default=BUDGET_MB,
                        help=f"the most one upload may raise a worker's memory, in MB ({BUDGET_MB})")
    parser.add_argument("--upload", type=Path, help=argparse.SUPPRESS)  # the fresh process's side
    args = parser.parse_args(argv)
    if args.side < 1 or args.budget < 1:
        parser.error("--side and --budget must be at least 1")
    return args


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Measure each format; 0 when every upload stays within the budget, 1 otherwise."""
    args = _parse(argv)
    if args.upload:
        print(json.dumps(upload_in_this_process(args.upload).__dict__))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="roster-bench-") as folder:
        for kind in args.formats:
            _progress(f"making a {args.side} × {args.side} {kind} ...")
            path = make_image(kind, args.side, Path(folder))
            _progress(f"uploading {path.name} ({path.stat().st_size / MB:.1f} MB) in a fresh process ...")
            results.append(measure(path))
            path.unlink()
    megapixels = args.side * args.side / 1_000_000
    heading = (f"Upload memory: one {args.side} × {args.side} image ({megapixels:g} million pixels) through "
               f"add_media_item in a fresh process; budget {args.budget} MB above what the process held before")
    lines = [heading]
    rows, over = [], []
    for result in results:
        increase = result.increase / MB
        outcome = "refused" if result.refused else ("stored" if result.stored else "NO THUMBNAIL")
        rows.append([result.kind, f"{result.file_bytes / MB:.1f}", outcome, f"{result.rss_before / MB:.0f}",
                     f"{result.peak_after / MB:.0f}", f"{increase:.0f}", f"{result.seconds:.2f}"])
        if increase > args.budget or not (result.stored or result.refused):
            over.append(result.kind)
    lines += ["  " + line for line in report.table(
        ["Format", "File MB", "Upload", "RSS before MB", "Peak after MB", "Increase MB", "Seconds"],
        rows, numeric=(1, 3, 4, 5, 6),
    )]
    for result in results:
        if result.refused:
            lines.append(f"  {result.kind} refused: {result.refused}")
    lines.append("FAILED: over the budget or without a thumbnail: " + ", ".join(over) if over else
                 f"OK: every upload stays within {args.budget} MB.")
    print("\n".join(lines))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
