-- ModelForge v1 (before the is_custom_base_model fix), as `sqlite3 .dump` writes it.
BEGIN TRANSACTION;
CREATE TABLE fine_tuned_models (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    model_name TEXT NOT NULL,
    base_model TEXT NOT NULL,
    task TEXT NOT NULL,
    description TEXT,
    creation_date TEXT NOT NULL,
    model_path TEXT NOT NULL
);
INSERT INTO "fine_tuned_models" VALUES(1,'llama-qa-v1','meta-llama/Llama-3.2-1B','question-answering','QA tune','2025-03-01T10:00:00','/models/llama-qa-v1');
INSERT INTO "fine_tuned_models" VALUES(2,'phi-sum','microsoft/phi-2','summarization',NULL,'2025-04-12T08:30:00','/models/phi-sum');
INSERT INTO "fine_tuned_models" VALUES(3,'gpt2-chat','gpt2','text-generation','it''s a chat model; with "quotes"','2025-05-20T17:45:00','/models/gpt2-chat');
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('fine_tuned_models',3);
COMMIT;
