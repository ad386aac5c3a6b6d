//! Chat templates: how a model expects a conversation to be written out.

use serde::Deserialize;

/// A role in a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// The templates hotline knows. The converter names the model's template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatTemplate {
    /// `<|im_start|>role\ncontent<|im_end|>\n` (SmolLM2, Qwen2.5).
    Chatml,
}

impl ChatTemplate {
    /// Writes `messages` and opens the assistant's turn, ready for generation.
    pub fn render(self, messages: &[(Role, &str)]) -> String {
        match self {
            ChatTemplate::Chatml => {
                let mut out = String::new();
                for (role, content) in messages {
                    out.push_str("<|im_start|>");
                    out.push_str(role.as_str());
                    out.push('\n');
                    out.push_str(content);
                    out.push_str("<|im_end|>\n");
                }
                out.push_str("<|im_start|>assistant\n");
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_layout() {
        let text = ChatTemplate::Chatml.render(&[(Role::System, "Be brief."), (Role::User, "Hi")]);
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
    }
}
