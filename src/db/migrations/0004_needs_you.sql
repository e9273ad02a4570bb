CREATE TABLE `agents` (
	`session_id` text PRIMARY KEY NOT NULL,
	`stream_id` text,
	`pid` integer,
	`launcher` text,
	`status` text NOT NULL,
	`tool` text,
	`last_message` text,
	`pending_question` text,
	`cwd` text,
	`transcript_path` text,
	`input_tokens` integer DEFAULT 0 NOT NULL,
	`output_tokens` integer DEFAULT 0 NOT NULL,
	`cache_read_tokens` integer DEFAULT 0 NOT NULL,
	`cache_creation_tokens` integer DEFAULT 0 NOT NULL,
	`cost_usd` real,
	`started_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`ended_at` text
);
--> statement-breakpoint
CREATE INDEX `agents_stream_idx` ON `agents` (`stream_id`);--> statement-breakpoint
CREATE INDEX `agents_updated_idx` ON `agents` (`updated_at`);--> statement-breakpoint
CREATE TABLE `inbox` (
	`id` integer PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`source` text NOT NULL,
	`session_id` text,
	`stream_id` text,
	`agent` text,
	`tool_name` text,
	`tool_input` text,
	`tool_use_id` text,
	`question` text NOT NULL,
	`status` text NOT NULL,
	`answered_by` text,
	`answered_how` text,
	`reason` text,
	`always` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL,
	`answered_at` text
);
--> statement-breakpoint
CREATE INDEX `inbox_pending_idx` ON `inbox` (`status`) WHERE "inbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX `inbox_stream_idx` ON `inbox` (`stream_id`);--> statement-breakpoint
CREATE TABLE `policy_rules` (
	`id` integer PRIMARY KEY NOT NULL,
	`rule` text NOT NULL,
	`effect` text NOT NULL,
	`created_by` text,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `policy_rules_rule_unique` ON `policy_rules` (`rule`);--> statement-breakpoint
CREATE TABLE `stream_budgets` (
	`stream_id` text PRIMARY KEY NOT NULL,
	`raised_usd` real DEFAULT 0 NOT NULL,
	`raised_tokens` integer DEFAULT 0 NOT NULL,
	`paused_reason` text,
	`paused_at` text,
	`updated_at` text NOT NULL
);
