"""Writes the variant cases: for each kind of fault in ../shared/cases, more
inputs of the same kind, in the same folder format, so that run-cases can
check the importer against them too.

Usage: python3 tests/variants/gen_all.py OUTPUT_DIR
"""
import shutil
import sys
from pathlib import Path

import lib

if len(sys.argv) > 1:
    lib.ROOT = Path(sys.argv[1])

import gen_a, gen_b, gen_c, gen_d, gen_e, gen_f, gen_g  # noqa: E402

if lib.ROOT.exists():
    shutil.rmtree(lib.ROOT)
lib.ROOT.mkdir(parents=True)
gen_a.booleans(); gen_a.line_endings(); gen_a.dates(); gen_a.headers()
gen_b.emails(); gen_b.empties(); gen_b.huge(); gen_b.no_guessing(); gen_b.nul_bytes()
gen_b.numbers()
gen_c.quoted_newlines(); gen_c.ragged(); gen_c.delimiters(); gen_c.unterminated()
gen_c.boms(); gen_c.encodings()
gen_d.dup_keys(); gen_d.http_429(); gen_d.http_5xx(); gen_d.timeouts(); gen_d.names()
gen_d.ndjson_framing(); gen_d.ndjson_malformed()
gen_e.encoding_round2(); gen_e.ndjson_round2(); gen_e.csv_round2(); gen_e.dates_round2()
gen_e.mapping_round2(); gen_e.http_round2()
gen_f.boundaries(); gen_f.encodings(); gen_f.headers(); gen_f.http()
gen_g.state_null(); gen_g.mapping_shapes()
print(len(lib.ALL), "variant cases written to", lib.ROOT)
