//! The application's handlers.

use serde::{Deserialize, Serialize};
use smolweb::{Error, Json, Request, Result, StatusCode};

use crate::AppState;

/// A note, as stored and as sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Note {
    /// Assigned by the server, from 1.
    pub id: u64,
    /// What the note says.
    pub text: String,
}

/// What a client posts to make a note.
#[derive(Debug, Deserialize)]
pub struct NewNote {
    /// What the note says.
    pub text: String,
}

/// `GET /`
pub async fn index(_req: Request) -> &'static str {
    "user crate\n"
}

/// `GET /hello/:name`
pub async fn hello(req: Request) -> String {
    format!("hello, {}\n", req.param("name").unwrap_or("stranger"))
}

/// `GET /api/notes`
pub async fn list_notes(req: Request) -> Json<Vec<Note>> {
    let notes = req.state::<AppState>().notes.lock().expect("notes lock");
    Json(notes.clone())
}

/// `POST /api/notes` with `{"text": "..."}`: `201` and the note.
pub async fn add_note(mut req: Request) -> Result<(StatusCode, Json<Note>)> {
    let new: NewNote = req.body_json().await?;
    if new.text.trim().is_empty() {
        return Err(Error::new(
            StatusCode::UnprocessableEntity,
            "a note needs text",
        ));
    }
    let mut notes = req.state::<AppState>().notes.lock().expect("notes lock");
    let note = Note {
        id: notes.len() as u64 + 1,
        text: new.text,
    };
    notes.push(note.clone());
    Ok((StatusCode::Created, Json(note)))
}

/// `GET /api/notes/:id`
pub async fn get_note(req: Request) -> Result<Json<Note>> {
    let id: u64 = req
        .param("id")
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::new(StatusCode::BadRequest, "id must be a number"))?;
    let notes = req.state::<AppState>().notes.lock().expect("notes lock");
    notes
        .iter()
        .find(|n| n.id == id)
        .cloned()
        .map(Json)
        .ok_or_else(|| Error::new(StatusCode::NotFound, "no such note"))
}
