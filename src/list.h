/* SPDX-License-Identifier: MIT */
/*
 * The process's lists of the library's own objects (the mappings that
 * fork() must know about, the armed descriptors, a mux's subscriptions)
 * are linked through members next and prev of their elements, from a
 * head pointer (NULL when empty).  One push and one unlink for every
 * kind of element; the caller holds the list's lock.
 */
#ifndef RINGCAST_LIST_H
#define RINGCAST_LIST_H

/* Put n first on the list *headp. */
#define rc_list_push(headp, n)               \
	do {                                 \
		typeof(n) n_ = (n);          \
		typeof(n) *h_ = (headp);     \
		n_->prev = NULL;             \
		n_->next = *h_;              \
		if (n_->next)                \
			n_->next->prev = n_; \
		*h_ = n_;                    \
	} while (0)

/* Take n off the list *headp; an element on no list stays off. */
#define rc_list_del(headp, n)                      \
	do {                                       \
		typeof(n) n_ = (n);                \
		typeof(n) *h_ = (headp);           \
		if (n_->prev)                      \
			n_->prev->next = n_->next; \
		else if (*h_ == n_)                \
			*h_ = n_->next;            \
		if (n_->next)                      \
			n_->next->prev = n_->prev; \
		n_->next = n_->prev = NULL;        \
	} while (0)

#endif
