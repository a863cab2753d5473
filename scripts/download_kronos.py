"""Download the pinned official Kronos weights into KRONOS_WEIGHTS_DIR (run on a machine with internet).

Usage: python scripts/download_kronos.py [--dest DIR] [--parts Kronos-small Kronos-Tokenizer-base]

Fetches `config.json` + `model.safetensors` of each part from the NeoQuasar Hugging Face repos into
`DEST/<part>/`, then checks each `model.safetensors` against the size and sha256 pinned in
`aitrader.models.kronos.KRONOS_PINS` and each `config.json` against `KRONOS_CONFIGS`. A file that does not
match is deleted and the script exits with status 1. Nothing at run time ever downloads: the app only reads
the folder this script fills (copy it to the target machine and point KRONOS_WEIGHTS_DIR at it).
"""
from __future__ import annotations
import argparse, json, os, shutil, sys
from pathlib import Path

from aitrader.models.kronos import (KRONOS_CONFIGS, KRONOS_MODEL, KRONOS_PINS, KRONOS_TOKENIZER,
                                    KronosWeightsError, verify_weights_file)

HUB_ORG = "NeoQuasar"  # official Kronos releases: https://huggingface.co/NeoQuasar


def fetch_part(part: str, dest: Path) -> str:
    "Download one part into dest/part and verify it; returns the sha256. Raises KronosWeightsError on a mismatch."
    from huggingface_hub import hf_hub_download  # imported here: the library never needs it
    out = dest / part
    out.mkdir(parents=True, exist_ok=True)
    for fname in ("config.json", "model.safetensors"):
        src = hf_hub_download(repo_id=f"{HUB_ORG}/{part}", filename=fname)
        shutil.copyfile(src, out / fname)
    try:
        cfg = json.loads((out / "config.json").read_text())
        if cfg != KRONOS_CONFIGS[part]:
            raise KronosWeightsError(f"{part}/config.json differs from the official config: {cfg}")
        return verify_weights_file(out / "model.safetensors", *KRONOS_PINS[part])
    except KronosWeightsError:
        for fname in ("config.json", "model.safetensors"): (out / fname).unlink(missing_ok=True)
        raise


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dest", default=os.environ.get("KRONOS_WEIGHTS_DIR"), help="target folder (default: $KRONOS_WEIGHTS_DIR)")
    ap.add_argument("--parts", nargs="+", default=[KRONOS_MODEL, KRONOS_TOKENIZER], choices=sorted(KRONOS_PINS))
    a = ap.parse_args(argv)
    if not a.dest: ap.error("give --dest or set KRONOS_WEIGHTS_DIR")
    dest = Path(a.dest).expanduser()
    ok = True
    for part in a.parts:
        try: print(f"{part}: ok, sha256 {fetch_part(part, dest)}")
        except KronosWeightsError as e: ok = False; print(f"{part}: REJECTED: {e}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
