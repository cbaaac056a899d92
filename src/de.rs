//! Text pairs (path parameters, query and form fields) deserialized into typed values, with
//! errors that name the field that failed.
//!
//! [`from_pairs`] reads `(name, value)` pairs as a struct or map (by name; a name given
//! several times is a sequence, for `Vec` fields), or as a tuple or sequence (by position),
//! and parses each value as the field's type asks: numbers, `bool`, `char`, strings, unit
//! enum variants, `Option`. serde_qs and serde_urlencoded say "invalid digit found in string"
//! without saying where; this says "`id`: invalid digit found in string".

use std::fmt;

use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

/// Why pairs did not fit the type: the field, when one is to blame, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub(crate) field: Option<String>,
    pub(crate) message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) if !self.message.contains(&format!("`{field}`")) => {
                write!(f, "`{field}`: {}", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FieldError {}

impl de::Error for FieldError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FieldError {
            field: None,
            message: msg.to_string(),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        FieldError {
            field: Some(field.to_owned()),
            message: format!("missing field `{field}`"),
        }
    }
}

/// Deserializes `pairs` into `T` (see the module docs).
pub(crate) fn from_pairs<'de, T: de::Deserialize<'de>>(
    pairs: &'de [(&'de str, &'de str)],
) -> Result<T, FieldError> {
    T::deserialize(Pairs(pairs))
}

/// The pairs as a whole: a struct, a map, a tuple or a sequence.
struct Pairs<'de>(&'de [(&'de str, &'de str)]);

impl<'de> de::Deserializer<'de> for Pairs<'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_map(Fields {
            pairs: self.0,
            at: 0,
            current: None,
        })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_seq(Values {
            values: self.0.iter().map(|(name, value)| (*name, *value)).collect(),
            at: 0,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct map struct enum identifier ignored_any
    }
}

/// The pairs by name, each name once (its values together), in the order names first came.
struct Fields<'de> {
    pairs: &'de [(&'de str, &'de str)],
    at: usize,
    current: Option<&'de str>,
}

impl<'de> de::MapAccess<'de> for Fields<'de> {
    type Error = FieldError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, FieldError> {
        while let Some((name, _)) = self.pairs.get(self.at) {
            self.at += 1;
            let seen = self.pairs[..self.at - 1].iter().any(|(n, _)| n == name);
            if !seen {
                self.current = Some(name);
                let key: StrDeserializer<'_, FieldError> = name.into_deserializer();
                return seed.deserialize(key).map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, FieldError> {
        let name = self.current.take().unwrap_or_default();
        let values: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(n, v)| (*n, *v))
            .collect();
        match values.as_slice() {
            [(_, value)] => seed.deserialize(Value { name, value }),
            _ => seed.deserialize(Values { values, at: 0 }),
        }
        .map_err(|e| blame(e, name))
    }
}

/// Several values, by position (a tuple of path parameters, a repeated query field).
struct Values<'de> {
    values: Vec<(&'de str, &'de str)>,
    at: usize,
}

impl<'de> de::SeqAccess<'de> for Values<'de> {
    type Error = FieldError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, FieldError> {
        let Some(&(name, value)) = self.values.get(self.at) else {
            return Ok(None);
        };
        self.at += 1;
        seed.deserialize(Value { name, value })
            .map(Some)
            .map_err(|e| blame(e, name))
    }
}

impl<'de> de::Deserializer<'de> for Values<'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_seq(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// `e`, blamed on `name` unless it already names a field.
fn blame(mut e: FieldError, name: &str) -> FieldError {
    if e.field.is_none() {
        e.field = Some(name.to_owned());
    }
    e
}

/// One value, parsed as the type asks.
struct Value<'de> {
    name: &'de str,
    value: &'de str,
}

impl Value<'_> {
    fn parse<T: std::str::FromStr>(&self) -> Result<T, FieldError>
    where
        T::Err: fmt::Display,
    {
        self.value.parse().map_err(|e: T::Err| FieldError {
            field: Some(self.name.to_owned()),
            message: format!("{e} ({:?})", self.value),
        })
    }
}

macro_rules! parse_as {
    ($($method:ident $visit:ident $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
            visitor.$visit(self.parse::<$ty>()?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value<'de> {
    type Error = FieldError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_borrowed_str(self.value)
    }

    parse_as! {
        deserialize_bool visit_bool bool,
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64,
        deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64,
        deserialize_f32 visit_f32 f32, deserialize_f64 visit_f64 f64,
        deserialize_char visit_char char,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        visitor.visit_seq(Values {
            values: vec![(self.name, self.value)],
            at: 0,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        let variant: StrDeserializer<'_, FieldError> = self.value.into_deserializer();
        visitor.visit_enum(variant)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 str string bytes byte_buf unit_struct tuple tuple_struct map struct
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Order {
        Asc,
        Desc,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Query {
        id: u32,
        name: String,
        tag: Vec<String>,
        limit: Option<u8>,
        order: Order,
        #[serde(default)]
        draft: bool,
    }

    #[test]
    fn structs_tuples_and_the_field_to_blame() {
        let pairs = [
            ("id", "42"),
            ("name", "a b"),
            ("tag", "x"),
            ("order", "desc"),
            ("tag", "y"),
        ];
        let q: Query = from_pairs(&pairs).unwrap();
        assert_eq!(
            q,
            Query {
                id: 42,
                name: "a b".into(),
                tag: vec!["x".into(), "y".into()],
                limit: None,
                order: Order::Desc,
                draft: false
            }
        );
        let (id, slug): (u64, String) = from_pairs(&[("id", "7"), ("slug", "hi")]).unwrap();
        assert_eq!((id, slug.as_str()), (7, "hi"));

        let e = from_pairs::<Query>(&[("id", "abc"), ("name", "n"), ("order", "asc")]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("id"));
        assert_eq!(
            e.to_string(),
            "`id`: invalid digit found in string (\"abc\")"
        );
        let e = from_pairs::<Query>(&[("id", "1"), ("order", "asc")]).unwrap_err();
        assert_eq!(e.to_string(), "missing field `name`");
        let e = from_pairs::<Query>(&[("id", "1"), ("name", "n"), ("order", "up")]).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("order"), "{e}");
        let e = from_pairs::<(u8,)>(&[("n", "300")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`n`: number too large to fit in target type (\"300\")"
        );
    }
}
