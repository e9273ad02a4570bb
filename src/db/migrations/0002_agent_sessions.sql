CREATE TABLE `agent_sessions` (
	`id` integer PRIMARY KEY NOT NULL,
	`stream_id` text NOT NULL,
	`initiative_id` text,
	`launch` integer NOT NULL,
	`session_id` text,
	`started_at` text NOT NULL,
	`ended_at` text,
	`exit_code` integer,
	`outcome` text,
	`cost_usd` real,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`cache_read_tokens` integer DEFAULT 0 NOT NULL,
	`cache_creation_tokens` integer DEFAULT 0 NOT NULL,
	`turns` integer,
	`denials` text DEFAULT '[]' NOT NULL
);
--> statement-breakpoint
CREATE INDEX `agent_sessions_stream_idx` ON `agent_sessions` (`stream_id`);