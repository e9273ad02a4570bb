ALTER TABLE `agents` ADD `host` text;--> statement-breakpoint
ALTER TABLE `streams` ADD `worktree_host` text;