//! [`Extra`]: the unknown fields of the hot stream event types, allocated
//! only when there are some.

use std::fmt;

use serde::de::Deserializer;
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Fields this version does not know, kept verbatim: a JSON object that is
/// allocated only when it is not empty.
///
/// The delta events of a stream (`text_delta`, `input_json_delta`, ...) are
/// the hot path of decoding; they carry an `Extra` instead of a
/// `serde_json::Map` so that the usual case, no unknown field, costs one
/// null pointer: nothing to build, nothing to drop, 8 bytes to move.
/// Serialized flattened into the enclosing object, like a `Map`.
///
/// ```
/// use messages_types::Extra;
/// use serde_json::json;
///
/// let mut extra = Extra::default();
/// assert!(extra.is_empty());
/// extra.insert("estimated".into(), json!(3));
/// assert_eq!(extra.get("estimated"), Some(&json!(3)));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Extra(Option<Box<Map<String, Value>>>);

impl Extra {
    /// No fields. Does not allocate.
    pub const fn new() -> Extra {
        Extra(None)
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|m| m.is_empty())
    }

    /// The field `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.as_ref()?.get(key)
    }

    /// Sets a field, allocating the map on first use.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.0.get_or_insert_with(Box::default).insert(key, value)
    }

    /// The fields, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().flat_map(|m| m.iter())
    }

    /// The fields as a map (empty when there are none).
    pub fn into_map(self) -> Map<String, Value> {
        self.0.map(|m| *m).unwrap_or_default()
    }
}

impl From<Map<String, Value>> for Extra {
    fn from(map: Map<String, Value>) -> Extra {
        Extra((!map.is_empty()).then(|| Box::new(map)))
    }
}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Extra, D::Error> {
        Map::deserialize(d).map(Extra::from)
    }
}
