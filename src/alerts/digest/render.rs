//! The digest's text and HTML from one set of templates (`templates/`, minijinja).

use super::{AlertView, Digest};
use anyhow::{Context, Result};
use minijinja::{Environment, Value};

const TEXT: &str = include_str!("templates/digest.txt.j2");
const HTML: &str = include_str!("templates/digest.html.j2");

/// Where the HTML's chart images are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Images {
    /// `cid:` references to the e-mail's inline parts.
    ContentId,
    /// `data:` URIs: one self-contained page.
    Inline,
}

/// The plain text part.
pub fn text(digest: &Digest) -> Result<String> {
    render("digest.txt", TEXT, digest, Images::ContentId)
}

/// The HTML part (or page), charts as `images` says.
pub fn html(digest: &Digest, images: Images) -> Result<String> {
    render("digest.html", HTML, digest, images)
}

fn render(name: &str, template: &str, digest: &Digest, images: Images) -> Result<String> {
    let mut env = Environment::new();
    // `.html` templates escape what they print; `.txt` ones do not.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.add_template(name, template)
        .with_context(|| format!("template {name}"))?;
    env.add_function("image_src", move |alert: Value| -> String {
        let alert: Option<AlertView> = serde_json::to_value(&alert)
            .ok()
            .and_then(|v| serde_json::from_value(v).ok());
        match (alert, images) {
            (Some(a), Images::ContentId) => format!("cid:{}", a.content_id()),
            (Some(a), Images::Inline) => {
                format!("data:image/png;base64,{}", a.chart.unwrap_or_default())
            }
            (None, _) => String::new(),
        }
    });
    let text = env
        .get_template(name)?
        .render(Value::from_serialize(digest))
        .with_context(|| format!("rendering {name}"))?;
    Ok(text)
}
