use std::fmt;

/// Longest title, in characters (Unicode scalar values), after trimming.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest notes, in characters.
pub const MAX_NOTES_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("title must not be empty")]
    EmptyTitle,
    #[error("title is {0} characters long; the limit is {MAX_TITLE_CHARS}")]
    TitleTooLong(usize),
    #[error("notes are {0} characters long; the limit is {MAX_NOTES_CHARS}")]
    NotesTooLong(usize),
}

/// A todo's title: trimmed, not empty, at most [`MAX_TITLE_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err(FieldError::EmptyTitle);
        }
        if chars > MAX_TITLE_CHARS {
            return Err(FieldError::TitleTooLong(chars));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Free-text notes, at most [`MAX_NOTES_CHARS`] characters. Empty means "no notes": sending empty
/// notes in an update clears them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notes(String);

impl Notes {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars > MAX_NOTES_CHARS {
            return Err(FieldError::NotesTooLong(chars));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn empty() -> Self {
        Self(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The notes as the state holds them: `None` when empty.
    pub fn into_option(self) -> Option<String> {
        (!self.0.is_empty()).then_some(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_and_must_not_be_blank() {
        assert_eq!(Title::parse("  buy milk \n").unwrap().as_str(), "buy milk");
        assert_eq!(Title::parse(" \t "), Err(FieldError::EmptyTitle));
    }

    #[test]
    fn title_length_counts_characters_not_bytes() {
        assert!(Title::parse(&"é".repeat(MAX_TITLE_CHARS)).is_ok());
        assert_eq!(Title::parse(&"x".repeat(MAX_TITLE_CHARS + 1)), Err(FieldError::TitleTooLong(MAX_TITLE_CHARS + 1)));
    }

    #[test]
    fn notes_have_a_limit_and_empty_means_none() {
        assert_eq!(Notes::parse("").unwrap().into_option(), None);
        assert_eq!(Notes::parse(&"n".repeat(MAX_NOTES_CHARS + 1)), Err(FieldError::NotesTooLong(MAX_NOTES_CHARS + 1)));
    }
}
