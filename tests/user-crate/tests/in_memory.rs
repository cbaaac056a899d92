//! The application through `smolweb::test::TestClient`: whole requests, the same connection
//! code a socket runs, no port. Files go out as on a socket (a `Service::respond` would show
//! a file response with an empty body).

use std::path::PathBuf;

use smolweb::StatusCode;
use smolweb::test::TestClient;
use smolweb_user_crate::{AppState, app, handlers::Note};

fn client() -> TestClient {
    let public = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("public");
    TestClient::new(app(AppState::default(), public))
}

#[test]
fn notes_round_trip_in_memory() {
    smol::block_on(async {
        let client = client();
        let res = client
            .post("/api/notes")
            .json(&serde_json::json!({"text": "buy milk"}))
            .send()
            .await;
        assert_eq!(res.status(), StatusCode::Created);
        assert_eq!(res.header("x-app"), Some("user-crate"));
        let note: Note = res.json().await;
        let res = client.get(&format!("/api/notes/{}", note.id)).send().await;
        assert_eq!(res.json::<Note>().await.text, "buy milk");
        let all: Vec<Note> = client.get("/api/notes").send().await.json().await;
        assert_eq!(all.len(), 1);
        assert_eq!(
            client.get("/api/notes/abc").send().await.status(),
            StatusCode::BadRequest
        );
    });
}

#[test]
fn static_files_in_memory() {
    smol::block_on(async {
        let client = client();
        let res = client.get("/static/hello.txt").send().await;
        assert_eq!(res.status(), StatusCode::Ok);
        let on_disk =
            std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("public/hello.txt"))
                .unwrap();
        assert_eq!(res.bytes().await, on_disk);
        let res = client
            .get("/static/hello.txt")
            .header("range", "bytes=0-3")
            .send()
            .await;
        assert_eq!(res.status(), StatusCode::PartialContent);
        assert_eq!(res.bytes().await, on_disk[..4]);
    });
}
