CREATE TABLE `stream_claims` (
	`stream_id` text PRIMARY KEY NOT NULL,
	`machine` text NOT NULL,
	`pid` integer NOT NULL,
	`holder` text NOT NULL,
	`purpose` text NOT NULL,
	`claimed_at` text NOT NULL,
	`heartbeat_at` text NOT NULL,
	`expires_at` text NOT NULL
);
