"""A short demo on the embedded SQLite store with local storage, in a throw-away folder.

Runs the real `vwaza` commands one after another and shows each one as it goes.
Run: python -m vwaza_cli.demo [--keep]
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

from PIL import Image

ADMIN = ("admin@example.com", "admin password")
ARTIST = ("ada@example.com", "ada password")


def _bin(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else name


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    shown = " ".join(shlex.quote(a) for a in args)
    print(f"\n$ {shown}" + ("   # password on stdin" if stdin else ""), flush=True)
    done = subprocess.run(
        [_bin(args[0]), *args[1:]], input=stdin, env=env, text=True, capture_output=True
    )
    sys.stdout.write(done.stdout)
    sys.stdout.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"demo step failed with exit code {done.returncode}")
    return done.stdout


def _make_media(folder: Path) -> tuple[Path, list[Path]]:
    """A square cover and two short tones, written with the libraries vwaza reads them with."""
    cover = folder / "cover.jpg"
    Image.new("RGB", (1400, 1400), (30, 60, 120)).save(cover, quality=90)
    tracks = []
    for number, pitch in ((1, 440.0), (2, 523.25)):
        path = folder / f"0{number}-tone.wav"
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(44100)
            frames = (int(8000 * math.sin(2 * math.pi * pitch * i / 44100)) for i in range(88200))
            out.writeframes(b"".join(struct.pack("<h", f) for f in frames))
        tracks.append(path)
    return cover, tracks


def main() -> None:
    keep = "--keep" in sys.argv
    folder = Path(tempfile.mkdtemp(prefix="vwaza-demo-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VWAZA_", "SUPABASE_"))}
    env.update(VWAZA_HOME=str(folder / "home"), NO_COLOR="1")
    print(f"Demo store, spool and local storage in {folder}")
    try:
        _demo(folder, env)
    finally:
        if keep:
            print(f"\nKept {folder} (VWAZA_HOME={folder / 'home'})")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _demo(folder: Path, env: dict[str, str]) -> None:
    cover, tracks = _make_media(folder)
    _run(["vwaza", "init", "--admin-email", ADMIN[0], "--password-stdin"], env, ADMIN[1] + "\n")
    _run(
        [
            "vwaza",
            "auth",
            "register",
            "--email",
            ARTIST[0],
            "--artist-name",
            "Ada",
            "--password-stdin",
        ],
        env,
        ARTIST[1] + "\n",
    )
    _run(
        ["vwaza", "auth", "login", "--email", ARTIST[0], "--password-stdin"], env, ARTIST[1] + "\n"
    )
    release = json.loads(
        _run(["vwaza", "release", "create", "Night Drive", "--genre", "Electronic", "--json"], env)
    )
    short = release["id"][:8]
    for number, path in enumerate(tracks, start=1):
        _run(["vwaza", "track", "add", short, str(path), "--title", f"Tone {number}"], env)
    _run(["vwaza", "release", "cover", short, str(cover)], env)
    _run(["vwaza", "release", "submit", short], env)
    _run(["vwaza", "release", "list"], env)
    _run(["vwaza-daemon", "--once"], env)
    _run(["vwaza", "release", "show", short], env)
    _run(["vwaza", "auth", "login", "--email", ADMIN[0], "--password-stdin"], env, ADMIN[1] + "\n")
    _run(["vwaza", "review", "list"], env)
    _run(["vwaza", "review", "approve", short], env)
    _run(["vwaza", "release", "list", "--all"], env)
    print(
        f"\nDone: release {short} went from DRAFT to PUBLISHED, its files uploaded to "
        f"{folder / 'home' / 'data' / 'storage'} (run with --keep to look around)."
    )


if __name__ == "__main__":
    main()
