//! Households (户): the residents at one address of a centre, each with their relationship
//! to the head of household (户主). A household has at most one head; its address is its
//! members' address.

/// How a member is related to the head of household.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relationship {
    Head,
    Spouse,
    Child,
    Parent,
    Grandchild,
    Grandparent,
    Sibling,
    OtherRelative,
    Other,
}

/// Every relationship with its code and the words household registers (户口簿) and centre
/// sheets use for it.
const RELATIONSHIPS: [(Relationship, &str, &[&str]); 9] = [
    (Relationship::Head, "head", &["户主", "本人"]),
    (
        Relationship::Spouse,
        "spouse",
        &["配偶", "妻", "夫", "妻子", "丈夫"],
    ),
    (
        Relationship::Child,
        "child",
        &[
            "子女", "子", "女", "儿子", "女儿", "长子", "长女", "次子", "次女",
        ],
    ),
    (
        Relationship::Parent,
        "parent",
        &["父母", "父亲", "母亲", "父", "母"],
    ),
    (
        Relationship::Grandchild,
        "grandchild",
        &["孙子女", "孙子", "孙女", "外孙子女", "外孙", "外孙女"],
    ),
    (
        Relationship::Grandparent,
        "grandparent",
        &["祖父母", "祖父", "祖母", "外祖父母", "外祖父", "外祖母"],
    ),
    (
        Relationship::Sibling,
        "sibling",
        &[
            "兄弟姐妹",
            "兄",
            "弟",
            "姐",
            "妹",
            "哥哥",
            "弟弟",
            "姐姐",
            "妹妹",
        ],
    ),
    (
        Relationship::OtherRelative,
        "other_relative",
        &["其他亲属", "儿媳", "女婿", "侄子", "侄女"],
    ),
    (Relationship::Other, "other", &["其他", "非亲属"]),
];

impl Relationship {
    /// A code (`head`, `spouse`, …) or the Chinese word for it (户主, 配偶, 子女, …).
    pub fn parse(text: &str) -> Result<Relationship, String> {
        let text = text.trim();
        RELATIONSHIPS
            .iter()
            .find(|(_, code, words)| *code == text || words.contains(&text))
            .map(|(relationship, _, _)| *relationship)
            .ok_or_else(|| {
                let codes: Vec<&str> = RELATIONSHIPS.iter().map(|(_, code, _)| *code).collect();
                format!(
                    "must be one of {} (or 户主, 配偶, 子女, …)",
                    codes.join(", ")
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        RELATIONSHIPS
            .iter()
            .find(|(relationship, _, _)| *relationship == self)
            .map(|(_, code, _)| *code)
            .expect("every relationship has a code")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationships_read_codes_and_the_words_of_a_household_register() {
        assert_eq!(Relationship::parse("户主"), Ok(Relationship::Head));
        assert_eq!(Relationship::parse(" head "), Ok(Relationship::Head));
        assert_eq!(Relationship::parse("妻子"), Ok(Relationship::Spouse));
        assert_eq!(Relationship::parse("长女"), Ok(Relationship::Child));
        assert_eq!(Relationship::parse("外祖母"), Ok(Relationship::Grandparent));
        assert!(Relationship::parse("邻居").is_err());
        for (relationship, code, _) in RELATIONSHIPS {
            assert_eq!(Relationship::parse(code), Ok(relationship));
            assert_eq!(relationship.as_str(), code);
        }
    }
}
