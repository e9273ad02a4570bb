CREATE TABLE "api_tokens" (
	"name" text PRIMARY KEY NOT NULL,
	"hash" text NOT NULL,
	"created_at" text NOT NULL,
	"created_on" text NOT NULL,
	"last_used_at" text,
	CONSTRAINT "api_tokens_hash_unique" UNIQUE("hash")
);
