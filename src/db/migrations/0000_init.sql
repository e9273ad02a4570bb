CREATE TABLE `agent_activity` (
	`id` text PRIMARY KEY NOT NULL,
	`task_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`stream_id` text,
	`phase` text,
	`notes` text,
	`started_at` text NOT NULL,
	`last_heartbeat` text NOT NULL,
	`ended_at` text,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agent_activity_task_agent_idx` ON `agent_activity` (`task_id`,`agent_id`);--> statement-breakpoint
CREATE INDEX `agent_activity_stream_idx` ON `agent_activity` (`stream_id`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`entity_id` text NOT NULL,
	`op` text NOT NULL,
	`payload` text NOT NULL,
	`created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')) NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_kind_idx` ON `events` (`kind`);--> statement-breakpoint
CREATE TABLE `initiatives` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`linked_at` text NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `prds` (
	`id` text PRIMARY KEY NOT NULL,
	`initiative_id` text,
	`title` text NOT NULL,
	`description` text,
	`content` text DEFAULT '' NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`metadata` text DEFAULT '{}' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`initiative_id`) REFERENCES `initiatives`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `prds_initiative_idx` ON `prds` (`initiative_id`);--> statement-breakpoint
CREATE TABLE `streams` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`phase` text DEFAULT 'parallel' NOT NULL,
	`dependencies` text DEFAULT '[]' NOT NULL,
	`worktree_path` text,
	`branch_name` text,
	`archived` integer DEFAULT false NOT NULL,
	`initiative_id` text,
	`total_tasks` integer DEFAULT 0 NOT NULL,
	`completed_tasks` integer DEFAULT 0 NOT NULL,
	`in_progress_tasks` integer DEFAULT 0 NOT NULL,
	`blocked_tasks` integer DEFAULT 0 NOT NULL,
	`pending_tasks` integer DEFAULT 0 NOT NULL,
	`files` text DEFAULT '[]' NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`initiative_id`) REFERENCES `initiatives`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `streams_initiative_idx` ON `streams` (`initiative_id`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`prd_id` text,
	`parent_id` text,
	`title` text NOT NULL,
	`description` text,
	`assigned_agent` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`blocked_reason` text,
	`notes` text,
	`metadata` text DEFAULT '{}' NOT NULL,
	`stream_id` text,
	`archived` integer DEFAULT false NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	FOREIGN KEY (`prd_id`) REFERENCES `prds`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`stream_id`) REFERENCES `streams`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `tasks_stream_status_idx` ON `tasks` (`stream_id`,`status`);--> statement-breakpoint
CREATE INDEX `tasks_prd_idx` ON `tasks` (`prd_id`);--> statement-breakpoint
CREATE INDEX `tasks_status_idx` ON `tasks` (`status`);--> statement-breakpoint
CREATE INDEX `tasks_parent_idx` ON `tasks` (`parent_id`);--> statement-breakpoint
CREATE TABLE `work_products` (
	`id` text PRIMARY KEY NOT NULL,
	`task_id` text NOT NULL,
	`type` text NOT NULL,
	`title` text NOT NULL,
	`content` text NOT NULL,
	`metadata` text DEFAULT '{}' NOT NULL,
	`created_at` text NOT NULL,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `work_products_task_idx` ON `work_products` (`task_id`);