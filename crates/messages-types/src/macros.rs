//! Macros that write the repetitive serde code for forward-compatible enums.

/// A string-valued wire enum with an `Unknown(String)` variant that keeps any
/// value this version does not know.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The wire name of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Unknown(s) => s,
                }
            }

            /// Parses a wire name; names this version does not know become
            #[doc = concat!("[`", stringify!($name), "::Unknown`].")]
            pub fn from_wire(s: &str) -> $name {
                match s {
                    $( $wire => $name::$variant, )*
                    other => $name::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(concat!("a string (", stringify!($name), ")"))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        Ok($name::from_wire(s))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// `Deserialize` for an object-valued enum tagged by its `type` field.
///
/// Known tags deserialize into their variant (errors in their fields are
/// errors); other tags are kept whole in `Unknown(serde_json::Value)`. The
/// `Serialize` side is derived with `#[serde(tag = "type")]` and an untagged
/// `Unknown` variant, so unknown values serialize back unchanged.
macro_rules! tagged_deserialize {
    ($name:ident, $what:literal, { $( $tag:literal => $variant:ident $( ($ty:ty) )? ),* $(,)? }) => {
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[allow(unused_mut)]
                let mut value = ::serde_json::Value::deserialize(d)?;
                let tag = $crate::macros::tag_of::<D::Error>(&value, $what)?;
                match tag {
                    $( $tag => tagged_deserialize!(@variant $name, $what, $tag, value, $variant $( ($ty) )?), )*
                    _ => Ok($name::Unknown(value)),
                }
            }
        }
    };
    (@variant $name:ident, $what:literal, $tag:literal, $value:ident, $variant:ident ($ty:ty)) => {
        <$ty as ::serde::Deserialize>::deserialize($crate::macros::without_type($value))
            .map($name::$variant)
            .map_err(|e| $crate::macros::in_variant::<D::Error>(e, $what, $tag))
    };
    (@variant $name:ident, $what:literal, $tag:literal, $value:ident, $variant:ident) => {{
        let _ = $value;
        Ok($name::$variant)
    }};
}

/// Reads the `type` of an object, for [`tagged_deserialize!`].
pub(crate) fn tag_of<'v, E: serde::de::Error>(
    value: &'v serde_json::Value,
    what: &str,
) -> Result<&'v str, E> {
    match value {
        serde_json::Value::Object(map) => match map.get("type") {
            Some(serde_json::Value::String(tag)) => Ok(tag),
            Some(other) => Err(E::custom(format_args!(
                "the `type` of a {what} must be a string, found {}",
                kind_of(other)
            ))),
            None => Err(E::custom(format_args!("missing field `type` in a {what}"))),
        },
        other => Err(E::custom(format_args!(
            "a {what} must be a JSON object, found {}",
            kind_of(other)
        ))),
    }
}

/// Removes the `type` of an object whose variant is known, so that it does
/// not land in the variant's `extra` map.
pub(crate) fn without_type(mut value: serde_json::Value) -> serde_json::Value {
    if let serde_json::Value::Object(map) = &mut value {
        map.remove("type");
    }
    value
}

/// The `extra` map of a struct that carries its own `type` tag: the tag is
/// not an unknown field.
pub(crate) fn extra_without_type<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<serde_json::Map<String, serde_json::Value>, D::Error> {
    let mut map =
        <serde_json::Map<String, serde_json::Value> as serde::Deserialize>::deserialize(d)?;
    map.remove("type");
    Ok(map)
}

/// [`extra_without_type`] into an [`Extra`](crate::Extra).
pub(crate) fn extra_without_type_lazy<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<crate::Extra, D::Error> {
    extra_without_type(d).map(crate::Extra::from)
}

/// Adds the variant to an error raised inside it.
pub(crate) fn in_variant<E: serde::de::Error>(e: serde_json::Error, what: &str, tag: &str) -> E {
    E::custom(format_args!("{e} (in a `{tag}` {what})"))
}

/// A short name of a JSON value's kind, for error messages.
pub(crate) fn kind_of(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
