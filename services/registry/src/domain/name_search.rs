//! Finding residents by name the way Chinese front-desk staff type it: by characters
//! (`张`), by pinyin initials (`zs`) or by full pinyin, whole or begun (`zhang`,
//! `zhangsan`). Each name is stored with its search keys; a query is turned into the
//! match it asks for.

use pinyin::ToPinyin;

/// The search keys of a name: full pinyin without tones or spaces (`zhangsan`) and the
/// initials (`zs`). Letters and digits outside Chinese characters are kept as they are,
/// lower-cased, so `Tom 李` gives `tomli` and `tl`.
pub fn name_keys(name: &str) -> (String, String) {
    let (mut full, mut initials) = (String::new(), String::new());
    let mut in_word = false;
    for (ch, reading) in name.chars().zip(name.to_pinyin()) {
        match reading {
            Some(reading) => {
                full.push_str(reading.plain());
                initials.push_str(reading.first_letter());
                in_word = false;
            }
            None if ch.is_alphanumeric() => {
                let lower = ch.to_lowercase().to_string();
                full.push_str(&lower);
                if !in_word {
                    initials.push_str(&lower);
                }
                in_word = true;
            }
            None => in_word = false,
        }
    }
    (full, initials)
}

/// What a name query asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum NameQuery {
    /// Names containing these characters.
    Characters(String),
    /// Names whose full pinyin or initials begin with these letters.
    Pinyin(String),
}

impl NameQuery {
    /// `None` for an empty query; an error for one too long to mean a name.
    pub fn parse(text: &str) -> Result<Option<NameQuery>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > 64 {
            return Err("must be at most 64 characters".into());
        }
        let latin: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        if latin.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(Some(NameQuery::Pinyin(latin)))
        } else {
            Ok(Some(NameQuery::Characters(text.to_owned())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_get_full_pinyin_and_initials() {
        assert_eq!(name_keys("张三"), ("zhangsan".into(), "zs".into()));
        assert_eq!(
            name_keys("欧阳秀英"),
            ("ouyangxiuying".into(), "oyxy".into())
        );
    }

    #[test]
    fn latin_letters_are_kept() {
        assert_eq!(name_keys("Tom 李"), ("tomli".into(), "tl".into()));
    }

    #[test]
    fn queries_are_read_as_characters_or_pinyin() {
        assert_eq!(NameQuery::parse("  "), Ok(None));
        assert_eq!(
            NameQuery::parse("Zhang San"),
            Ok(Some(NameQuery::Pinyin("zhangsan".into())))
        );
        assert_eq!(
            NameQuery::parse("张"),
            Ok(Some(NameQuery::Characters("张".into())))
        );
        assert!(NameQuery::parse(&"z".repeat(65)).is_err());
    }
}
