"""Helpers to write variant case folders in the format of ../shared/cases."""
import base64
import json
import os
import shutil
from pathlib import Path

# Where the cases are written; gen_all.py sets it from its argument.
ROOT = Path(os.environ.get("VARIANT_CASES_DIR", "target/variant-cases"))
NUL_TERMS = {"any_of": ["nul", "0x00", "\\0", "\\u0000", "u+0000", "zero byte", "null byte"]}
KEY_TERMS = {"any_of": ["primary key", "primary_key", "primary-key"]}
EMPTY_TERMS = {"any_of": ["empty", "missing", "blank"]}
ALL = []


def b64(data):
    return base64.b64encode(data).decode()


def case(name, input_bytes, mapping, expect, server=None, md="", input_name=None,
         servers=None):
    """Write one case folder; `expect` holds the expectation keys."""
    folder = ROOT / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if input_name is None:
        input_name = "input.ndjson" if 'format = "ndjson"' in mapping else "input.csv"
    (folder / input_name).write_bytes(input_bytes)
    (folder / "mapping.toml").write_text(mapping, encoding="utf-8")
    script = None
    if server is not None:
        (folder / "server.toml").write_text(server, encoding="utf-8")
        script = "server.toml"
    for sname, stext in (servers or {}).items():
        (folder / sname).write_text(stext, encoding="utf-8")
    spec = {
        "schema": 1,
        "id": name,
        "input": input_name,
        "mapping": "mapping.toml",
        "script": script,
        "args": [],
    }
    spec.update(expect)
    spec.setdefault("never_in_output", ["$API_KEY"])
    spec.setdefault("dry_run", server is None and not servers)
    spec.setdefault("exit_code", {"OK": 0, "PARTIAL": 1, "FATAL": 2}[spec["exit_class"]])
    spec.setdefault("upserts", [])
    spec.setdefault("dead_letter", [])
    (folder / "expected.json").write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    (folder / "EXPECTED.md").write_text(f"# {name}\n\n{md.strip()}\n", encoding="utf-8")
    (folder / ".gitattributes").write_text("* -text\n")
    ALL.append(name)


def up(key, **props):
    return {"primary_key": key, "properties": props}


def upd(key, props):
    return {"primary_key": key, "properties": props}


def dl(line, raw, *must, **extra):
    entry = {"line": line, "must_name": list(must)}
    if isinstance(raw, bytes):
        try:
            entry["raw"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            entry["raw_base64"] = b64(raw)
    else:
        entry["raw"] = raw
    entry.update(extra)
    return entry


def mapping(pk_from, pk_type=None, props=(), source='format = "csv"', pk_extra=""):
    """A mapping text: props are (from, to, extra-lines) tuples."""
    out = [f"[source]\n{source}\n", f'[primary_key]\nfrom = {json.dumps(pk_from)}']
    if pk_type:
        out[-1] += f'\ntype = "{pk_type}"'
    if pk_extra:
        out[-1] += "\n" + pk_extra.strip()
    out[-1] += "\n"
    for prop in props:
        frm, to = prop[0], prop[1]
        extra = prop[2] if len(prop) > 2 else ""
        text = f"[[property]]\nfrom = {json.dumps(frm)}\nto = {json.dumps(to)}"
        if extra:
            text += "\n" + extra.strip()
        out.append(text + "\n")
    return "\n".join(out)
