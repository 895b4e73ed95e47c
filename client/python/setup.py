"""Build hook: generates the gRPC stubs from topicd's proto files at build time.

The stubs are never committed. ``build_py`` runs ``grpc_tools.protoc`` (pinned in
pyproject.toml's ``build-system.requires``) on ``topics/v1/topics.proto`` and writes
``topicd/_proto/topics/v1/topics_pb2.py``, ``topics_pb2.pyi`` and ``topics_pb2_grpc.py`` into the
build tree, with the generated ``from topics.v1 import ...`` rewritten to the package path.

Where the proto comes from, first match wins:

1. ``$TOPICD_PROTO_DIR`` (a directory holding ``topics/v1/topics.proto``);
2. ``../../proto`` next to this file (an in-tree build: ``pip install ./client/python``);
3. ``proto/`` next to this file (an sdist: ``sdist`` copies the proto there).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
PROTO_FILE = "topics/v1/topics.proto"
GENERATED_PACKAGE = "topicd._proto"


def proto_root() -> Path:
    candidates = []
    env = os.environ.get("TOPICD_PROTO_DIR")
    if env:
        candidates.append(Path(env))
    candidates += [HERE.parent.parent / "proto", HERE / "proto"]
    for c in candidates:
        if (c / PROTO_FILE).is_file():
            return c.resolve()
    raise RuntimeError(
        f"cannot find {PROTO_FILE}: looked in "
        + ", ".join(str(c) for c in candidates)
        + " (build from the topicd repository, or set TOPICD_PROTO_DIR)"
    )


def generate(out_pkg_dir: Path) -> None:
    """Runs protoc and installs the stubs under ``out_pkg_dir`` (the ``topicd`` package dir)."""
    import grpc_tools
    from grpc_tools import protoc  # a build requirement

    root = proto_root()
    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{root}",
            f"-I{well_known}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            str(root / PROTO_FILE),
        ]
        rc = protoc.main(args)
        if rc != 0:
            raise RuntimeError(f"grpc_tools.protoc failed ({rc}): {' '.join(args)}")
        dest = out_pkg_dir / "_proto"
        if dest.exists():
            shutil.rmtree(dest)
        src_dir = Path(tmp) / "topics" / "v1"
        dest_dir = dest / "topics" / "v1"
        dest_dir.mkdir(parents=True)
        for d in (dest, dest / "topics", dest_dir):
            (d / "__init__.py").write_text(
                "# Generated at build time from topicd's proto files; do not edit.\n"
            )
        for f in sorted(src_dir.iterdir()):
            text = f.read_text()
            text = re.sub(
                r"^from topics\.v1 import ",
                f"from {GENERATED_PACKAGE}.topics.v1 import ",
                text,
                flags=re.M,
            )
            (dest_dir / f.name).write_text(text)


class BuildPyWithStubs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            # Editable installs import from src/: generate there (ignored by git).
            generate(HERE / "src" / "topicd")
        else:
            generate(Path(self.build_lib) / "topicd")


class SdistWithProto(sdist):
    def make_release_tree(self, base_dir, files) -> None:
        super().make_release_tree(base_dir, files)
        target = Path(base_dir) / "proto" / PROTO_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(proto_root() / PROTO_FILE, target)


setup(cmdclass={"build_py": BuildPyWithStubs, "sdist": SdistWithProto})
