#!/usr/bin/env python3
"""Lists the public API of the workspace's library crates, one item per line.

An equivalent of `cargo semver-checks`' listing (which needs a large build)
from rustdoc's JSON output: every public module, struct (with its public
fields and whether it is `#[non_exhaustive]`), enum (with its variants),
trait, function, constant, type alias and macro, each inherent method, and
the traits each type implements. Two listings diff into what a change added
to or removed from the public API.

    python3 xtask/public_api.py OUT_DIR [CRATE...]

Runs `cargo rustdoc -- --output-format json` (unstable, hence
RUSTC_BOOTSTRAP=1 on the stable toolchain) into target/public-api and writes
OUT_DIR/CRATE.txt for each crate.
"""

import json
import os
import subprocess
import sys

CRATES = [
    "sse-core",
    "messages-types",
    "messages-http",
    "messages-stream",
    "messages-batch",
    "messages",
    "messages-relay",
    "messages-queue",
]


def rustdoc_json(root, krate, target):
    env = dict(os.environ, RUSTC_BOOTSTRAP="1")
    subprocess.run(
        ["cargo", "rustdoc", "-q", "-p", krate, "--all-features", "--target-dir", target,
         "--", "-Z", "unstable-options", "--output-format", "json"],
        cwd=root, env=env, check=True)
    with open(os.path.join(target, "doc", krate.replace("-", "_") + ".json")) as f:
        return json.load(f)


def listing(doc):
    index = doc["index"]
    paths = doc["paths"]
    lines = set()
    seen = set()

    def kind_of(item):
        return next(iter(item["inner"]))

    def non_exhaustive(item):
        return any("non_exhaustive" in str(a) for a in item.get("attrs", []))

    def trait_name(impl):
        trait = impl.get("trait")
        if not trait:
            return None
        name = trait.get("path") or trait.get("name") or "?"
        return name.split("::")[-1]

    def impls(item, path):
        inner = item["inner"][kind_of(item)]
        for impl_id in inner.get("impls", []):
            impl = index.get(str(impl_id))
            if impl is None:
                continue
            imp = impl["inner"]["impl"]
            if imp.get("is_synthetic") or imp.get("blanket_impl"):
                continue
            trait = trait_name(imp)
            if trait:
                lines.add(f"impl {trait} for {path}")
                continue
            for m in imp.get("items", []):
                method = index.get(str(m))
                if method and method.get("visibility") == "public":
                    lines.add(f"{kind_of(method)} {path}::{method['name']}")

    def walk(item_id, prefix):
        item = index.get(str(item_id))
        if item is None:
            # An item of another crate, re-exported: name it by its path.
            p = paths.get(str(item_id))
            if p:
                lines.add(f"reexport {prefix} = {'::'.join(p['path'])}")
            return
        kind = kind_of(item)
        if kind == "use":
            use = item["inner"]["use"]
            name = use["name"]
            target = use.get("id")
            if use.get("is_glob"):
                if target is not None and str(target) in index:
                    for child in index[str(target)]["inner"]["module"]["items"]:
                        walk(child, prefix)
                return
            if target is None:
                lines.add(f"reexport {prefix}::{name} = {use['source']}")
                return
            walk_named(target, f"{prefix}::{name}")
            return
        if item.get("visibility") != "public" or item.get("name") is None:
            return
        walk_named(item_id, f"{prefix}::{item['name']}" if prefix else item["name"])

    def walk_named(item_id, path):
        item = index.get(str(item_id))
        if item is None:
            p = paths.get(str(item_id))
            lines.add(f"reexport {path} = {'::'.join(p['path']) if p else '?'}")
            return
        if (item_id, path) in seen:
            return
        seen.add((item_id, path))
        kind = kind_of(item)
        inner = item["inner"][kind]
        ne = " #[non_exhaustive]" if non_exhaustive(item) else ""
        if kind == "module":
            lines.add(f"mod {path}")
            for child in inner["items"]:
                walk(child, path)
        elif kind == "struct":
            lines.add(f"struct {path}{ne}")
            k = inner["kind"]
            if isinstance(k, dict) and "plain" in k:
                for f in k["plain"]["fields"]:
                    field = index.get(str(f))
                    if field and field.get("visibility") == "public":
                        lines.add(f"field {path}.{field['name']}")
            impls(item, path)
        elif kind == "enum":
            lines.add(f"enum {path}{ne}")
            for v in inner["variants"]:
                lines.add(f"variant {path}::{index[str(v)]['name']}")
            impls(item, path)
        elif kind == "union":
            lines.add(f"union {path}")
        else:
            lines.add(f"{kind} {path}")

    root = index[str(doc["root"])]
    name = root["name"]
    lines.add(f"mod {name}")
    for child in root["inner"]["module"]["items"]:
        walk(child, name)
    return sorted(lines)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    crates = sys.argv[2:] or CRATES
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.environ.get("PUBLIC_API_TARGET", os.path.join(root, "target", "public-api"))
    os.makedirs(out, exist_ok=True)
    for krate in crates:
        doc = rustdoc_json(root, krate, target)
        lines = listing(doc)
        with open(os.path.join(out, krate + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{krate}: {len(lines)} items", file=sys.stderr)


if __name__ == "__main__":
    main()
