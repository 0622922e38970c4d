"""Fourth round: state after null, mapping shape errors."""
from lib import case, up, upd, dl, mapping


def state_null():
    m = mapping("email", "email", [("name", "name", 'on_empty = "null"'), ("plan", "plan")])
    data = (b"email,name,plan\n"
            b"k1@example.com,Ann,free\n"
            b"k1@example.com,,\n"
            b"k2@example.com,Bob,pro\n"
            b'k2@example.com,"",team\n')
    case("empty-null-clears-stored-value", data, m, {
        "args": ["--concurrency", "4"],
        "exit_class": "OK",
        "upserts": [up("k1@example.com", name="Ann", plan="free"), up("k1@example.com", name=None),
                    up("k2@example.com", name="Bob", plan="pro"),
                    up("k2@example.com", name=None, plan="team")],
        "upserts_order": "per_key",
        "state": {"customers": {"k1@example.com": {"plan": "free"},
                                "k2@example.com": {"plan": "team"}},
                  "absent": {"k1@example.com": ["name"], "k2@example.com": ["name"]}}},
        md="A later empty cell with on_empty = null clears the stored attribute; an omitted "
           "one leaves it.")


def mapping_shapes():
    base = b"email,name\na@example.com,Ann\n"
    m = '[source]\nformat = "csv"\n\n[primary_key]\nfrom = "email"\n\n[[property]]\nfrom = "name"\n'
    case("mapping-property-without-to", base, m, {
        "exit_class": "FATAL", "requests": {"total": 0}, "output_must_name": ["to"]},
        md="A property without `to`: FATAL mapping error.")
    m = mapping("email", "number", [("name", "name")])
    case("mapping-key-type-number", base, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": [{"any_of": ["number", "primary"]}]},
        md="The primary key may only be string or email: FATAL.")
    m = '[source]\nformat = "csv"\n\n[[property]]\nfrom = "name"\nto = "name"\n'
    case("mapping-without-primary-key", base, m, {
        "exit_class": "FATAL", "requests": {"total": 0},
        "output_must_name": [{"any_of": ["primary_key", "primary key"]}]},
        md="No [primary_key] table: FATAL mapping error.")


if __name__ == "__main__":
    state_null()
    mapping_shapes()
