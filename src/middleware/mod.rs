//! The middleware kit: ready-made [`Middleware`](crate::Middleware) for what most
//! applications need around their handlers. The book's *Middleware kit* chapter has a table
//! of every piece and its defaults.
//!
//! Each file holds one piece; they import the request, response and handler layers, never
//! the connection.
