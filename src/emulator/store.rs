//! Customers as Laudspeaker keeps them: found by trimmed primary key,
//! created on first upsert, each property set (a dotted name sets a nested
//! field, as MongoDB does), `null` removing it. Sharded so that concurrent
//! upserts of different keys rarely wait for each other.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde_json::{Map, Value};
use uuid::Uuid;

/// Attribute names the real server keeps for itself: the same list the
/// importer checks mappings against, since both follow the real server.
pub const RESERVED_NAMES: &[&str] = &crate::mapping::RESERVED;

const SHARDS: usize = 16;

/// Why an upsert was refused (answered 400, nothing changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The name is empty, starts with `_` or `$`, or is reserved.
    BadName { name: String, why: &'static str },
    /// Two properties of one request write the same nested place.
    Conflict { name: String, other: String },
    /// A dotted name runs through a value that is not an object.
    NotAnObject { name: String, prefix: String },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::BadName { name, why } => write!(f, "attribute name {name:?} {why}"),
            Refusal::Conflict { name, other } => {
                write!(f, "attributes {name:?} and {other:?} write the same place")
            }
            Refusal::NotAnObject { name, prefix } => {
                write!(f, "cannot set {name:?}: {prefix:?} is not an object")
            }
        }
    }
}

/// Checks one attribute name against what Laudspeaker accepts.
pub fn check_name(name: &str) -> Result<(), Refusal> {
    let why = if name.is_empty() {
        "is empty"
    } else if name.starts_with('_') || name.starts_with('$') {
        "starts with `_` or `$`"
    } else if RESERVED_NAMES.contains(&name) {
        "is reserved by Laudspeaker"
    } else if name.split('.').any(str::is_empty) {
        "has an empty part between dots"
    } else {
        return Ok(());
    };
    Err(Refusal::BadName {
        name: name.to_owned(),
        why,
    })
}

/// Checks every name of one request, and that no dotted name writes inside
/// another property of the same request.
pub fn check_properties(properties: &Map<String, Value>) -> Result<(), Refusal> {
    for name in properties.keys() {
        check_name(name)?;
    }
    for name in properties.keys().filter(|name| name.contains('.')) {
        let prefixes = name.match_indices('.').map(|(at, _)| &name[..at]);
        if let Some(other) = prefixes.into_iter().find(|p| properties.contains_key(*p)) {
            return Err(Refusal::Conflict {
                name: name.clone(),
                other: other.to_owned(),
            });
        }
    }
    Ok(())
}

struct Customer {
    id: Uuid,
    /// Creation order, so that dumps list customers as they came.
    order: u64,
    attributes: Map<String, Value>,
}

/// All customers of the emulated workspace.
pub struct Store {
    shards: Box<[Mutex<HashMap<String, Customer>>]>,
    hasher: RandomState,
    created: AtomicU64,
}

impl Default for Store {
    fn default() -> Self {
        let shards = (0..SHARDS).map(|_| Mutex::default()).collect();
        Store {
            shards,
            hasher: RandomState::new(),
            created: AtomicU64::new(0),
        }
    }
}

impl Store {
    fn shard(&self, key: &str) -> MutexGuard<'_, HashMap<String, Customer>> {
        let index = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        // A poisoned shard only means another request panicked mid-update;
        // the map itself is still usable for a test stand-in.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Sets `properties` on the customer `key` (already trimmed), creating
    /// it if absent; answers its stable id. Nothing changes on a refusal.
    pub fn upsert(&self, key: &str, properties: Map<String, Value>) -> Result<Uuid, Refusal> {
        check_properties(&properties)?;
        let mut shard = self.shard(key);
        if let Some(customer) = shard.get_mut(key) {
            check_paths(&customer.attributes, &properties)?;
            set_all(&mut customer.attributes, properties);
            return Ok(customer.id);
        }
        let mut attributes = Map::new();
        check_paths(&attributes, &properties)?;
        set_all(&mut attributes, properties);
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let order = self.created.fetch_add(1, Ordering::Relaxed);
        shard.insert(
            key.to_owned(),
            Customer {
                id,
                order,
                attributes,
            },
        );
        Ok(id)
    }

    /// The attributes of customer `key`, if it exists.
    pub fn read(&self, key: &str) -> Option<Map<String, Value>> {
        self.shard(key)
            .get(key)
            .map(|customer| customer.attributes.clone())
    }

    /// Removes customer `key`; false when there was none.
    pub fn delete(&self, key: &str) -> bool {
        self.shard(key).remove(key).is_some()
    }

    /// How many customers exist.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().map_or_else(|p| p.into_inner().len(), |s| s.len()))
            .sum()
    }

    /// Whether no customer exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every customer's primary key mapped to its attributes, in creation
    /// order.
    pub fn dump(&self) -> Map<String, Value> {
        let mut all = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|poison| poison.into_inner());
            let copies = shard
                .iter()
                .map(|(key, c)| (c.order, key.clone(), c.attributes.clone()));
            all.extend(copies);
        }
        all.sort_unstable_by_key(|(order, _, _)| *order);
        all.into_iter()
            .map(|(_, key, attributes)| (key, Value::Object(attributes)))
            .collect()
    }
}

/// Checks that every dotted name of a non-null property runs only through
/// objects (or absent fields) of the stored attributes.
fn check_paths(
    attributes: &Map<String, Value>,
    properties: &Map<String, Value>,
) -> Result<(), Refusal> {
    let dotted = properties
        .iter()
        .filter(|(name, value)| !value.is_null() && name.contains('.'));
    for (name, _) in dotted {
        let mut place = attributes;
        let mut segments = name.split('.').peekable();
        let mut walked = 0;
        while let Some(segment) = segments.next() {
            if segments.peek().is_none() {
                break;
            }
            walked += segment.len() + usize::from(walked > 0);
            match place.get(segment) {
                None => break,
                Some(Value::Object(inner)) => place = inner,
                Some(_) => {
                    let prefix = name[..walked].to_owned();
                    return Err(Refusal::NotAnObject {
                        name: name.clone(),
                        prefix,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Applies checked properties: values set, nulls removed.
fn set_all(attributes: &mut Map<String, Value>, properties: Map<String, Value>) {
    for (name, value) in properties {
        if !name.contains('.') {
            if value.is_null() {
                attributes.shift_remove(&name);
            } else {
                attributes.insert(name, value);
            }
        } else if value.is_null() {
            remove_path(attributes, &name);
        } else {
            set_path(attributes, &name, value);
        }
    }
}

fn set_path(attributes: &mut Map<String, Value>, name: &str, value: Value) {
    let (parents, leaf) = name.rsplit_once('.').unwrap_or(("", name));
    let mut place = attributes;
    for segment in parents.split('.') {
        let inner = place
            .entry(segment)
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(inner) = inner else {
            return; // check_paths refused this before anything changed
        };
        place = inner;
    }
    place.insert(leaf.to_owned(), value);
}

fn remove_path(attributes: &mut Map<String, Value>, name: &str) {
    let (parents, leaf) = name.rsplit_once('.').unwrap_or(("", name));
    let mut place = attributes;
    for segment in parents.split('.') {
        match place.get_mut(segment) {
            Some(Value::Object(inner)) => place = inner,
            _ => return,
        }
    }
    place.shift_remove(leaf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("test properties must be an object, not {other}"),
        }
    }

    #[test]
    fn upsert_creates_then_updates_with_a_stable_id() {
        let store = Store::default();
        let first = store.upsert("a@x.io", props(json!({"plan": "free", "seats": 1})));
        let second = store.upsert("a@x.io", props(json!({"plan": "pro"})));
        assert_eq!(first, second);
        assert_eq!(
            store.read("a@x.io"),
            Some(props(json!({"plan": "pro", "seats": 1})))
        );
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn null_removes_an_attribute() {
        let store = Store::default();
        store
            .upsert("k", props(json!({"plan": "free", "seats": 1})))
            .expect("valid");
        store
            .upsert("k", props(json!({"seats": null})))
            .expect("valid");
        assert_eq!(store.read("k"), Some(props(json!({"plan": "free"}))));
    }

    #[test]
    fn dotted_names_set_and_clear_nested_fields() {
        let store = Store::default();
        store
            .upsert(
                "k",
                props(json!({"address.city": "Oslo", "address.zip": "0150"})),
            )
            .expect("valid");
        store
            .upsert("k", props(json!({"address.zip": null})))
            .expect("valid");
        assert_eq!(
            store.read("k"),
            Some(props(json!({"address": {"city": "Oslo"}})))
        );
    }

    #[test]
    fn dotted_name_through_a_plain_value_is_refused_and_changes_nothing() {
        let store = Store::default();
        store
            .upsert("k", props(json!({"address": "Main St 1"})))
            .expect("valid");
        let refused = store.upsert("k", props(json!({"plan": "pro", "address.city": "Oslo"})));
        let expected = Refusal::NotAnObject {
            name: "address.city".into(),
            prefix: "address".into(),
        };
        assert_eq!(refused, Err(expected));
        assert_eq!(
            store.read("k"),
            Some(props(json!({"address": "Main St 1"})))
        );
    }

    #[test]
    fn names_writing_the_same_place_are_refused() {
        let refused = check_properties(&props(json!({"a": 1, "a.b": 2})));
        assert_eq!(
            refused,
            Err(Refusal::Conflict {
                name: "a.b".into(),
                other: "a".into()
            })
        );
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        let why = |name: &str| match check_name(name) {
            Err(Refusal::BadName { why, .. }) => why,
            other => panic!("{name:?} gave {other:?}"),
        };
        assert_eq!(why(""), "is empty");
        assert_eq!(why("_secret"), "starts with `_` or `$`");
        assert_eq!(why("$set"), "starts with `_` or `$`");
        assert_eq!(why("workspaceId"), "is reserved by Laudspeaker");
        assert_eq!(why("a..b"), "has an empty part between dots");
        assert_eq!(check_name("firstName"), Ok(()));
    }

    #[test]
    fn delete_removes_the_customer() {
        let store = Store::default();
        store.upsert("k", Map::new()).expect("valid");
        assert!(store.delete("k"));
        assert!(!store.delete("k"));
        assert_eq!(store.read("k"), None);
    }

    #[test]
    fn dump_lists_customers_in_creation_order() {
        let store = Store::default();
        for key in ["c", "a", "b"] {
            store.upsert(key, props(json!({"n": key}))).expect("valid");
        }
        let keys: Vec<_> = store.dump().keys().cloned().collect();
        assert_eq!(keys, ["c", "a", "b"]);
    }
}
